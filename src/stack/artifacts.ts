import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PrerequisiteError } from './component.ts';
import { which } from './process.ts';

export interface MavenFetch {
  /** Human name for progress lines, e.g. "Apache Kafka 4.3.0". */
  label: string;
  pomFile: string;
  /** Cache folder; a hash of the pom is appended so a changed pom fetches again. */
  outDirBase: string;
  /** Group ids not to copy (e.g. jars the Connect worker already provides). */
  excludeGroupIds?: string[];
}

/**
 * Copies a pom's runtime dependencies from Maven Central into a cache folder, once. Maven's own
 * ~/.m2 repository is the download cache; the folder is marked complete only after a full copy.
 */
export async function fetchMavenArtifacts(spec: MavenFetch, say: (line: string) => void): Promise<string> {
  const pom = readFileSync(spec.pomFile, 'utf8');
  const hash = createHash('sha256').update(pom).update(String(spec.excludeGroupIds)).digest('hex').slice(0, 12);
  const outDir = `${spec.outDirBase}-${hash}`;
  const marker = join(outDir, '.complete');
  if (existsSync(marker)) return outDir;

  requireTool('mvn', 'Apache Maven is needed to fetch Kafka, Kafka Connect and Debezium from Maven Central', 'apt-get install maven');
  requireTool('java', 'a Java runtime (17 or newer) is needed', 'apt-get install openjdk-17-jdk-headless');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  say(`fetching ${spec.label} from Maven Central into ${outDir} (once; later starts reuse it)`);
  const args = ['-B', '-q', '-f', spec.pomFile, 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${outDir}`];
  if (spec.excludeGroupIds?.length) args.push(`-DexcludeGroupIds=${spec.excludeGroupIds.join(',')}`);
  const started = Date.now();
  const output = await runCommand('mvn', args);
  if (output.code !== 0) {
    throw new PrerequisiteError(
      `could not fetch ${spec.label} with Maven (exit ${output.code}):\n${output.text.split('\n').slice(-15).join('\n')}`,
      'check that Maven Central is reachable (proxy settings in ~/.m2/settings.xml) and retry `shopforce stack up`',
    );
  }
  const jars = readdirSync(outDir).filter((f) => f.endsWith('.jar')).length;
  writeFileSync(marker, new Date().toISOString());
  say(`fetched ${spec.label}: ${jars} jars in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return outDir;
}

export function requireTool(command: string, what: string, install: string): string {
  const path = which(command);
  if (!path) throw new PrerequisiteError(`${command} not found: ${what}`, install);
  return path;
}

/** Runs a command to its end, capturing stdout and stderr together (for error messages). */
export function runCommand(command: string, args: string[]): Promise<{ code: number; text: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    child.on('error', (err) => resolve({ code: -1, text: String(err) }));
    child.on('close', (code) => resolve({ code: code ?? -1, text }));
  });
}
