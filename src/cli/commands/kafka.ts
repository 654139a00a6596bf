import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { createStackContext } from '../../stack/context.ts';
import { kafkaBootstrap, kafkaLibs } from '../../stack/components/kafka.ts';
import { requireJava17 } from '../../stack/java.ts';

/** Kafka's own command-line tools, run from the fetched jars with the stack's bootstrap server. */
export const KAFKA_TOOLS: Record<string, string> = {
  'console-consumer': 'org.apache.kafka.tools.consumer.ConsoleConsumer',
  'console-producer': 'org.apache.kafka.tools.ConsoleProducer',
  topics: 'org.apache.kafka.tools.TopicCommand',
  'consumer-groups': 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
  'get-offsets': 'org.apache.kafka.tools.GetOffsetShell',
  configs: 'org.apache.kafka.admin.ConfigCommand',
};

export function register(program: Command): void {
  program
    .command('kafka')
    .description(`run a Kafka tool against the stack (${Object.keys(KAFKA_TOOLS).join(', ')}); --bootstrap-server is added`)
    .argument('<tool>', 'tool name')
    .argument('[args...]', 'arguments passed to the tool')
    .allowUnknownOption()
    .helpOption(false)
    .action(async (tool: string, args: string[]) => {
      const mainClass = KAFKA_TOOLS[tool];
      if (!mainClass) throw new Error(`unknown Kafka tool '${tool}': choose one of ${Object.keys(KAFKA_TOOLS).join(', ')}`);
      const ctx = createStackContext({ quiet: true });
      const java = requireJava17();
      const libs = await kafkaLibs(ctx);
      const full = args.includes('--bootstrap-server') ? args : ['--bootstrap-server', kafkaBootstrap(ctx), ...args];
      const code = await new Promise<number>((resolve) =>
        spawn(java, ['-Dlog4j2.level=warn', '-cp', `${libs}/*`, mainClass, ...full], { stdio: 'inherit' }).on('close', (c) => resolve(c ?? 1)),
      );
      process.exitCode = code;
    });
}
