"use client";

import { createContext, type ReactNode, useContext, useMemo } from "react";
import { type LiveTransport, useLiveTransport } from "./live-transport";

/**
 * One transport per tab, shared by its panels: each panel's stream reports to it, every panel and
 * the status chip read it. A context, so the page lays panels out without passing it along.
 */

const LiveTransportContext = createContext<LiveTransport | null>(null);

export function LiveTransportProvider({ children }: { children: ReactNode }) {
  const { transport, reconnecting, refusal, dispatch } = useLiveTransport();
  const value = useMemo(
    () => ({ transport, reconnecting, refusal, dispatch }),
    [transport, reconnecting, refusal, dispatch],
  );
  return <LiveTransportContext.Provider value={value}>{children}</LiveTransportContext.Provider>;
}

/** The tab's transport; only inside a LiveTransportProvider. */
export function useTabTransport(): LiveTransport {
  const transport = useContext(LiveTransportContext);
  if (!transport) throw new Error("useTabTransport() outside a LiveTransportProvider");
  return transport;
}
