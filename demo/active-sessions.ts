import { activeSessionsQuery, type PreparedQuery, type ActiveSession } from "../server/questdb/queries";
import { withClient } from "./pg-client";

/**
 * Every running session, by the dashboard's own definition of active (the product's query, so
 * the tools never restate it), without the page's limit: the seed counts them, the feed moves
 * their PnL.
 */
export function allActiveSessionsQuery(): PreparedQuery<ActiveSession[]> {
  return activeSessionsQuery(Number.MAX_SAFE_INTEGER);
}

/** How many sessions are running now. */
export async function countActiveSessions(pgUrl: string): Promise<number> {
  const { sql, params } = allActiveSessionsQuery();
  return withClient(pgUrl, async (client) => (await client.query(sql, [...params])).rowCount ?? 0);
}
