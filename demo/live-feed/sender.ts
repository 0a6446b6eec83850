import { Sender } from "@questdb/nodejs-client";
import { logEvent, type Logger } from "../../server/observability/logger";
import { describeError } from "../describe-error";
import { ilpConfig } from "../writes";

/**
 * The feed's one ILP Sender: created when a tick needs it, dropped after any failure so that the
 * next tick starts from a fresh one.
 */
export interface SenderSlot {
  get(): Promise<Sender>;
  /** Discards what is buffered and closes the Sender, if there is one. Never rejects. */
  drop(): Promise<void>;
}

export function createSenderSlot(httpUrl: string, requestTimeoutMs: number, log: Logger): SenderSlot {
  let sender: Sender | null = null;

  const senderLog = (level: "error" | "warn" | "info" | "debug", message: string | Error) => {
    // The client's own chatter (e.g. "unflushed data lost" on close after a failure) stays at debug.
    logEvent(log, "debug", "feed.ilp_client", { clientLevel: level, message: describeError(message) });
  };

  return {
    async get() {
      // fromConfig asks /settings for the protocol version, so it fails while QuestDB is down;
      // it is retried on the next tick.
      // stdlib_http: the default undici transport retries refused connections forever and does not
      // honour retry_timeout when QuestDB is gone (a flush hung for the whole outage); node's http
      // transport fails fast on a refused connection and after request_timeout on a frozen one.
      // retry_timeout=0: no retries inside a tick, the next tick is the retry.
      sender ??= await Sender.fromConfig(
        ilpConfig(httpUrl, {
          stdlib_http: "on",
          auto_flush: "off",
          request_timeout: requestTimeoutMs,
          retry_timeout: 0,
        }),
        { log: senderLog },
      );
      return sender;
    },
    async drop() {
      const current = sender;
      sender = null;
      if (current) {
        current.reset();
        await current.close().catch(() => {});
      }
    },
  };
}
