import { TRPCError, tracked } from "@trpc/server";
import { z } from "zod";
import type { Resilient } from "@/contract/answer";
import { isLiveLimitError } from "@/server/live/live-limits";
import type { LiveStream } from "@/server/live/live-stream";
import type { Context } from "@/server/trpc";

/**
 * What the live subscriptions share: the id a reconnecting client sends back, who holds a stream
 * (for LIVE_MAX_STREAMS_PER_CLIENT), and the stream as tRPC sees it — `tracked()` answers, so a
 * client gets `Resilient<T>` inferred from the router — which the broadcast route can also attach
 * to directly (one serialization per event, server/live/sse-broadcast.ts).
 */

/**
 * What a reconnecting subscription sends back: the id of the last event it received (tRPC's
 * httpSubscriptionLink adds it to the input). Ids are short and made of letters, digits and dots.
 */
export const lastEventId = z
  .string()
  .max(64, "at most 64 characters")
  .regex(/^[A-Za-z0-9.]*$/, "an event id this server sent")
  .nullish();

/** Who a stream counts against: the session (when signed in) and the client's address. */
export function streamHolders(ctx: Context): string[] {
  const holders = [`client:${ctx.clientAddress}`];
  const { viewer } = ctx;
  if (viewer.kind === "operator") {
    const session = "sessionId" in viewer && typeof viewer.sessionId === "string" ? viewer.sessionId : null;
    holders.push(`session:${session ?? viewer.user.sub}`);
  }
  return holders;
}

/**
 * The stream of answers as the subscription yields them; a limit reached is tRPC's
 * TOO_MANY_REQUESTS with the limit named, which the page shows.
 */
export function liveAnswers<T>(open: () => LiveStream<Resilient<T>>) {
  let stream: LiveStream<Resilient<T>>;
  try {
    stream = open();
  } catch (error) {
    if (isLiveLimitError(error)) throw new TRPCError({ code: "TOO_MANY_REQUESTS", message: error.message });
    throw error;
  }
  return {
    attach: stream.attach,
    async *[Symbol.asyncIterator]() {
      for await (const event of stream) yield tracked(event.id, event.answer);
    },
  };
}
