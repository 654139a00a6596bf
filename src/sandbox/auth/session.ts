/** Who an access token belongs to; returned by the emulator's token check to every API. */
export interface AuthSession {
  orgId: string;      // 18-char 00D... id
  userId: string;     // 18-char 005... id
  username: string;
  accessToken: string;
  expiresAt: number;  // epoch ms
}

/** Checks an access token; undefined when unknown, revoked or expired. */
export type TokenCheck = (accessToken: string) => AuthSession | undefined;
