import path from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_RESULT_FILE } from "./settings";

/** The soak's command-line options. */

export interface Options {
  durationS: number;
  seed: number;
  build: boolean;
  clients: number;
  thinkMs: [number, number];
  /** Where the JSON report goes (npm test writes its short run under test-results/). */
  out: string;
}

export function usage(): string {
  return "usage: npm run chaos -- [--duration <seconds>] [--seed <n>] [--build] [--clients <n>] [--think-ms <min>-<max>] [--out <file>]";
}

export function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: "string", default: "180" },
      seed: { type: "string", default: "20261127" },
      build: { type: "boolean", default: false },
      clients: { type: "string", default: "50" },
      "think-ms": { type: "string", default: "100-900" },
      out: { type: "string", default: DEFAULT_RESULT_FILE },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(usage());
    process.exit(0);
  }
  const int = (name: string, text: string, min: number) => {
    if (!/^\d+$/.test(text.trim()) || Number(text) < min)
      throw new Error(`--${name} must be an integer >= ${min}, got "${text}"`);
    return Number(text);
  };
  const think = /^(\d+)-(\d+)$/.exec(values["think-ms"].trim());
  if (!think || Number(think[1]) > Number(think[2]))
    throw new Error(`--think-ms must be <min>-<max>, got "${values["think-ms"]}"`);
  return {
    durationS: int("duration", values.duration, 5),
    seed: int("seed", values.seed, 0),
    build: values.build,
    clients: int("clients", values.clients, 1),
    thinkMs: [Number(think[1]), Number(think[2])],
    out: path.resolve(values.out),
  };
}
