import { closeSync, fchmodSync, openSync, writeSync } from 'node:fs';

/**
 * Writes a file only its owner may read or write (0600): session stores, private keys, tokens, env
 * files with secrets. A file that already exists with a wider mode (an older version wrote it 0644)
 * is narrowed before the new content goes in: writeFile's `mode` applies only to a file it creates.
 */
export function writePrivateFile(path: string, data: string): void {
  const fd = openSync(path, 'w', 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, data);
  } finally {
    closeSync(fd);
  }
}
