import { spawnSync } from 'node:child_process';
import { PrerequisiteError } from './component.ts';
import { requireTool } from './artifacts.ts';

/** Returns the java executable after checking it is version 17 or newer. */
export function requireJava17(): string {
  const java = process.env.JAVA_HOME ? `${process.env.JAVA_HOME}/bin/java` : requireTool('java', 'a Java runtime (17 or newer) runs Kafka, Kafka Connect and the registry', 'apt-get install openjdk-17-jre-headless');
  // `java -version` prints its banner on stderr
  const result = spawnSync(java, ['-version'], { encoding: 'utf8' });
  const banner = `${result.stderr ?? ''}${result.stdout ?? ''}`;
  const match = /version "(\d+)/.exec(banner) ?? /openjdk (\d+)/.exec(banner);
  const major = match ? Number(match[1]) : NaN;
  if (!(major >= 17)) {
    throw new PrerequisiteError(`Java 17 or newer is required (found: ${banner.split('\n')[0] || 'none'})`, 'apt-get install openjdk-17-jre-headless, or set JAVA_HOME to a JDK 17+');
  }
  return java;
}

/** Writes a log4j2 configuration that sends everything to stdout (the component's log file). */
export const LOG4J2_STDOUT = [
  'status = warn',
  'appender.console.type = Console',
  'appender.console.name = STDOUT',
  'appender.console.layout.type = PatternLayout',
  'appender.console.layout.pattern = [%d] %p %m (%c)%n',
  'rootLogger.level = info',
  'rootLogger.appenderRef.stdout.ref = STDOUT',
  'logger.reflections.name = org.reflections',
  'logger.reflections.level = error',
  '',
].join('\n');
