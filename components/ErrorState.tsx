"use client";

export interface ErrorStateProps {
  message: string;
  onRetry?: () => void;
  retrying?: boolean;
  testId?: string;
}

/**
 * A panel with nothing to show: the reason in words and a way to try again. Not an alert: the
 * state announcer says once that the panel has no data.
 */
export function ErrorState({ message, onRetry, retrying = false, testId = "error-state" }: ErrorStateProps) {
  return (
    <div className="error-state">
      <p data-testid={testId}>{message}</p>
      {onRetry && (
        <button type="button" onClick={onRetry} disabled={retrying}>
          {retrying ? "Trying…" : "Try again"}
        </button>
      )}
    </div>
  );
}
