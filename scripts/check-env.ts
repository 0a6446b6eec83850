import { exitOnInvalidEnv, parseEnv, requireAuthModeChosen } from "../server/env";

/**
 * Runs before `next start` (`npm start`): Next.js reads PORT itself before the app's own start-up
 * check, and takes PORT=0 as "any port" and PORT=70000 as a crash that exits 0. Checking the whole
 * configuration first gives every bad value the same one clear line and a non-zero exit — and an
 * unset AUTH_MODE too: production never opens the dashboard to everyone by default.
 */
exitOnInvalidEnv(() => requireAuthModeChosen(parseEnv()));
