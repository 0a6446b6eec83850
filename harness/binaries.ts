import fs from "node:fs";
import path from "node:path";

/**
 * Finding the programs the launchers run (java, mvn, redis-server, nginx, toxiproxy-server): an
 * environment variable that names the file, else PATH, and one line that says how to install it.
 */

/** Whether `file` is a regular file this user may execute. */
export function isExecutableFile(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The first executable `command` in PATH's directories, then in `extraDirs`; undefined when none. */
export function findOnPath(command: string, extraDirs: string[] = []): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(path.delimiter).filter(Boolean), ...extraDirs];
  const names = process.platform === "win32" ? [command, `${command}.cmd`, `${command}.exe`] : [command];
  for (const dir of dirs) {
    for (const name of names) {
      const file = path.join(dir, name);
      if (isExecutableFile(file)) return file;
    }
  }
  return undefined;
}

/** Each launcher throws its own error class, so a caller can tell which tool is missing. */
type UnavailableError = new (message: string) => Error;

/**
 * The file `$<envVar>` names, resolved; undefined when the variable is unset or blank. Throws
 * when it names something that cannot be executed: a wrong override is never silently ignored.
 */
export function binaryFromEnv(envVar: string, unavailable: UnavailableError): string | undefined {
  const configured = process.env[envVar]?.trim();
  if (!configured) return undefined;
  const bin = path.resolve(configured);
  if (!isExecutableFile(bin)) throw new unavailable(`${envVar} is set to ${bin}, which is not an executable file.`);
  return bin;
}

export interface BinaryLookup {
  /** The program's name on PATH: "redis-server". */
  command: string;
  /** The variable that names the file instead: "REDIS_SERVER_BIN". */
  envVar?: string;
  /** Looked in after PATH (Debian's /usr/sbin is often not on a non-root user's PATH). */
  extraDirs?: string[];
  /** What cannot be done without it, to start the error: "Cannot run Redis". */
  purpose: string;
  /** How to get it: "apt-get install redis-server". */
  installHint: string;
  /** Other ways round the missing program, after the hint: "or run `docker compose up -d questdb`". */
  alternatives?: string;
  unavailable: UnavailableError;
}

/**
 * `$<envVar>` when set, else `command` from PATH (or `extraDirs`); otherwise throws one line:
 * "Cannot run Redis: redis-server is not on PATH (apt-get install redis-server, or set REDIS_SERVER_BIN)."
 */
export function findBinary(lookup: BinaryLookup): string {
  const configured = lookup.envVar === undefined ? undefined : binaryFromEnv(lookup.envVar, lookup.unavailable);
  if (configured) return configured;
  const extraDirs = lookup.extraDirs ?? [];
  const found = findOnPath(lookup.command, extraDirs);
  if (found) return found;
  const where = extraDirs.length > 0 ? `on PATH nor in ${extraDirs.join(", ")}` : "on PATH";
  const orSet = lookup.envVar === undefined ? "" : `, or set ${lookup.envVar}`;
  const alternatives = lookup.alternatives === undefined ? "" : `, ${lookup.alternatives}`;
  throw new lookup.unavailable(
    `${lookup.purpose}: ${lookup.command} is not ${where} (${lookup.installHint}${orSet})${alternatives}.`,
  );
}
