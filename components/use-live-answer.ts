"use client";

import { skipToken } from "@tanstack/react-query";
import { useEffect, useId } from "react";
import { useKeptQuery } from "./kept-answer";
import type { LiveProcedure } from "./live-procedures";
import { pollEvery } from "./live-transport-state";
import { useTabTransport } from "./LiveTransportProvider";
import type { PanelQuery } from "./ResilientPanel";

/**
 * A panel's answer, live: streamed while the tab streams, polled while its stream is not live
 * (no slot, failing, reconnecting), neither while the tab is hidden; pushed answers land in the
 * same query cache the poll fills. The answer is kept: a later error or older answer never takes
 * rows off the screen (kept-answer.ts).
 */
export function useLiveAnswer<TInput, TData>(
  procedure: LiveProcedure<TInput, TData>,
  input: TInput,
): PanelQuery<TData> {
  const { transport, dispatch } = useTabTransport();
  const writeToCache = procedure.useCacheWriter();
  const { status: stream, refusal } = procedure.useStreamed(transport === "sse" ? input : skipToken, (answer) =>
    writeToCache(input, answer),
  );
  const id = useId();
  useEffect(
    () => dispatch({ type: "stream-status", stream: id, status: stream, at: Date.now() }),
    [dispatch, id, stream],
  );
  useEffect(() => () => dispatch({ type: "stream-closed", stream: id, at: Date.now() }), [dispatch, id]);
  useEffect(() => {
    if (refusal) dispatch({ type: "stream-refused", message: refusal, at: Date.now() });
  }, [dispatch, refusal]);
  const polled = procedure.usePolled(input, pollEvery(transport, stream));
  // Rows kept on screen belong to one input only.
  return useKeptQuery(polled, JSON.stringify(input) ?? "");
}
