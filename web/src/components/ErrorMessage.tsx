import { ApiError } from '../api/client';

/** An error in the API's shape (code and message), with a retry button when the caller offers one. */
export function ErrorMessage({ error, onRetry, what }: { error: unknown; onRetry?: () => void; what: string }) {
  const code = error instanceof ApiError ? error.code : 'ERROR';
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div className="error-box" role="alert">
      <p>
        <strong>Could not load {what}.</strong> {message} <code>{code}</code>
      </p>
      {onRetry !== undefined && (
        <button type="button" className="button secondary" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}
