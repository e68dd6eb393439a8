/** Every list answers this shape; `nextCursor` is null exactly when there are no more items. */
export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/**
 * Builds a page from rows fetched with `LIMIT limit + 1`: the extra row only tells whether a next
 * page exists, and the cursor is made from the last row that is returned.
 */
export function toPage<R, T>(rows: R[], limit: number, map: (row: R) => T, cursorOf: (row: R) => string): Page<T> {
  const more = rows.length > limit;
  const pageRows = more ? rows.slice(0, limit) : rows;
  return { data: pageRows.map(map), nextCursor: more ? cursorOf(pageRows[pageRows.length - 1]) : null };
}
