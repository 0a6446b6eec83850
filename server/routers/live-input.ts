import { z } from "zod";

/**
 * What a reconnecting subscription sends back: the id of the last event it received (tRPC's
 * httpSubscriptionLink adds it to the input). Ids are short and made of letters, digits and dots.
 */
export const lastEventId = z
  .string()
  .max(64, "at most 64 characters")
  .regex(/^[A-Za-z0-9.]*$/, "an event id this server sent")
  .nullish();
