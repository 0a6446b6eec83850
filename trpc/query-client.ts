import { QueryCache, QueryClient, defaultShouldDehydrateQuery } from "@tanstack/react-query";

/** A panel that cannot stream polls this often; the server answers from cache under a second old anyway. */
export const POLL_INTERVAL_MS = 2000;

/**
 * The QueryClient settings shared by the server prefetch and the browser. `onError` sees every
 * failed query (the browser's: a session that ended is sent through sign-in).
 */
export function createQueryClient(onError?: (error: unknown) => void): QueryClient {
  return new QueryClient({
    queryCache: new QueryCache({ onError: (error) => onError?.(error) }),
    defaultOptions: {
      queries: {
        // Server-rendered data is fresh on arrival: no refetch at the instant of hydration.
        staleTime: 1000,
        refetchInterval: POLL_INTERVAL_MS,
        // A hidden tab does not poll; it refetches when shown (refetchOnWindowFocus).
        refetchIntervalInBackground: false,
        refetchOnWindowFocus: true,
        refetchOnReconnect: true,
        // Polling is the retry; a failed poll keeps the last data on screen.
        retry: false,
      },
      dehydrate: {
        shouldDehydrateQuery: (query) => defaultShouldDehydrateQuery(query) || query.state.status === "pending",
      },
    },
  });
}
