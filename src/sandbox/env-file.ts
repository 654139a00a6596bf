import { writePrivateFile } from '../stack/private-file.ts';

/** What a process needs to reach the sandbox, as the SF_* variables the processors read. */
export interface SandboxAddresses {
  loginUrl: string;
  httpsUrl: string;
  pubSubEndpoint: string;
  apiVersion: string;
  caCertPath: string;
  credentials: {
    orgId: string; userId: string; username: string; password: string; clientId: string; clientSecret: string;
    adminToken: string; jwtPrivateKeyPath: string; jwtCertPath: string;
  };
}

export function sandboxEnv(a: SandboxAddresses): Record<string, string> {
  return {
    SF_LOGIN_URL: a.loginUrl,
    SF_HTTPS_LOGIN_URL: a.httpsUrl,
    SF_API_VERSION: a.apiVersion,
    SF_USERNAME: a.credentials.username,
    SF_PASSWORD: a.credentials.password,
    SF_CLIENT_ID: a.credentials.clientId,
    SF_CLIENT_SECRET: a.credentials.clientSecret,
    SF_PRIVATE_KEY_PATH: a.credentials.jwtPrivateKeyPath,
    SF_JWT_CERT_PATH: a.credentials.jwtCertPath,
    SF_PUBSUB_ENDPOINT: a.pubSubEndpoint,
    SF_CA_CERT_PATH: a.caCertPath,
    SF_ORG_ID: a.credentials.orgId,
    SF_ADMIN_URL: `${a.loginUrl}/__admin`,
    SF_ADMIN_TOKEN: a.credentials.adminToken,
  };
}

/** Writes KEY=value lines (values quoted when needed), readable by dotenv and `source`. */
export function writeEnvFile(path: string, vars: Record<string, string>): void {
  const lines = Object.entries(vars).map(([k, v]) => `${k}=${/^[\w@%+=:,./-]*$/.test(v) ? v : JSON.stringify(v)}`);
  writePrivateFile(path, `# written by shopforce sandbox up; do not commit\n${lines.join('\n')}\n`);
}
