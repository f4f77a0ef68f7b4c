// vigil CLI entry point: dispatches to a command module, loaded lazily so that agent-side
// commands never load the master's code (and its AWS SDK).
import type { DemoAgentStarter } from '../functions/local/cli.ts';

type Main = (argv: string[]) => Promise<number>;

const commands: Record<string, { load: () => Promise<{ main: Main }>; help: string }> = {
  master: {
    // The master command runs no agent code itself: with --demo it starts the demo agent
    // given here (loaded only then).
    load: async () => {
      const cli = await import('../functions/local/cli.ts');
      const startDemoAgent: DemoAgentStarter = async (opts) => (await import('../agent/demo.ts')).startDemoAgent(opts);
      return { main: (argv) => cli.main(argv, { startDemoAgent }) };
    },
    help: 'run the local master (Hono app, embedded store and queue)',
  },
  admin: {
    load: () => import('../functions/local/admin-cli.ts'),
    help: 'admin commands against a master (computer, sr, partition)',
  },
  migrate: {
    load: () => import('../functions/local/migrate-cli.ts'),
    help: 'copy a table of the store layout before issue 12 into a new one',
  },
  promise: {
    load: () => import('../agent/cli/promise.ts'),
    help: 'run the promises of one partition (promise run --partition DIR)',
  },
  agent: { load: () => import('../agent/cli/agent.ts'), help: 'run the node agent loop' },
  watchdog: {
    load: () => import('../agent/cli/watchdog.ts'),
    help: 'supervisord event listener that bangs when a watched service dies',
  },
  'supervisord-config': {
    load: () => import('../agent/cli/supervisord-config.ts'),
    help: 'write supervisord program and eventlistener sections',
  },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(20)} ${c.help}`);
  return `usage: vigil <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun 'vigil <command> --help' for the options of a command.\n`;
}

async function run(): Promise<number> {
  const [name, ...rest] = process.argv.slice(2);
  if (!name) {
    process.stderr.write(`vigil: a command is needed\n\n${usage()}`);
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write('vigil 0.1.0\n');
    return 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`vigil: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const mod = await command.load();
  return mod.main(rest);
}

run().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`vigil: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
