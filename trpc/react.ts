import { createTRPCReact } from "@trpc/react-query";
import type { AppRouter } from "@/server/root";

/** The typed React hooks for every procedure: `api.sessions.active.useQuery()`. */
export const api = createTRPCReact<AppRouter>();
