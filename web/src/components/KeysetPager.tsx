// Keyset paging: "Older" follows pagination.next_cursor as before_id; "Newer" walks back the cursors seen so far.
import { useState } from 'react';

export interface KeysetPage {
  /** The before_id of the page shown (undefined: the newest page). */
  beforeId: number | undefined;
  pageNumber: number;
  older: (nextCursor: number) => void;
  newer: () => void;
  reset: () => void;
}

export function useKeysetPage(): KeysetPage {
  const [cursors, setCursors] = useState<(number | undefined)[]>([undefined]);
  return {
    beforeId: cursors[cursors.length - 1],
    pageNumber: cursors.length,
    older: (nextCursor) => {
      setCursors((seen) => [...seen, nextCursor]);
    },
    newer: () => {
      setCursors((seen) => (seen.length > 1 ? seen.slice(0, -1) : seen));
    },
    reset: () => {
      setCursors([undefined]);
    },
  };
}

export function KeysetPager({
  page,
  nextCursor,
  label,
}: {
  page: KeysetPage;
  nextCursor: number | null;
  label: string;
}) {
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" className="button secondary" onClick={page.newer} disabled={page.pageNumber === 1}>
        ← Newer
      </button>
      <span>Page {page.pageNumber}</span>
      <button
        type="button"
        className="button secondary"
        onClick={() => {
          if (nextCursor !== null) page.older(nextCursor);
        }}
        disabled={nextCursor === null}
      >
        Older →
      </button>
    </nav>
  );
}
