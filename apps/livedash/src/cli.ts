#!/usr/bin/env node
import { type CliIo, ExitCodes, processIo } from './cli/command-io.js';

const USAGE = `Usage: livedash <command> [options]

Commands:
  serve      start the server (dashboard, WebSocket, SSE, HTTP API)
  publish    publish one JSON value on a channel
  tail       print a channel's messages as JSON lines
  token      mint a JWT for subscribers/publishers (local use)

Run livedash <command> --help for a command's options.`;

// Each command is loaded only when run: `publish`, `tail` and `--help` start without loading the
// server (Fastify, systeminformation, ioredis…), which takes seconds on a busy machine.
const commands: Record<string, (args: string[], io: CliIo) => Promise<number>> = {
  serve: async (args, io) => (await import('./cli/serve.js')).runServe(args, io),
  publish: async (args, io) => (await import('./cli/publish.js')).runPublish(args, io),
  tail: async (args, io) => (await import('./cli/tail.js')).runTail(args, io),
  token: async (args, io) => (await import('./cli/token.js')).runTokenCommand(args, io),
};

async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(USAGE);
    return name === undefined ? ExitCodes.USAGE : ExitCodes.OK;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) {
    io.err(`livedash: unknown command "${name.slice(0, 32)}"\n\n${USAGE}`);
    return ExitCodes.USAGE;
  }
  return command(args, io);
}

main(process.argv.slice(2), processIo).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('livedash: unexpected failure', error);
    process.exit(ExitCodes.FAILURE);
  },
);
