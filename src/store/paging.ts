import type { Knex } from "knex";
import { InvalidArgumentError } from "../domain/errors";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A keyset position: the (created_at, id) of the last row of a page. */
interface Cursor {
  readonly t: string;
  readonly id: string;
}

export interface PageRequest {
  readonly pageSize: number;
  readonly pageToken: string;
}

const MAX_PAGE_SIZE = 1000;

/** The page size every list uses: page_size 0 means the list's default, above 1000 is refused. */
export function pageSize(requested: number, defaultSize: number): number {
  if (!Number.isInteger(requested) || requested < 0 || requested > MAX_PAGE_SIZE) {
    throw new InvalidArgumentError("page_size", `must be 0 (default ${defaultSize}) to ${MAX_PAGE_SIZE}, got ${requested}`);
  }
  return requested || defaultSize;
}

/** Checks page_size and decodes page_token; throws naming the field. */
export function parsePage(request: PageRequest, defaultSize: number): { size: number; after?: Cursor } {
  const size = pageSize(request.pageSize, defaultSize);
  const { pageToken } = request;
  if (!pageToken) return { size };
  try {
    const cursor = JSON.parse(Buffer.from(pageToken, "base64url").toString("utf8")) as Cursor;
    // Only what this list itself wrote reaches the query: an ISO time and a UUID.
    if (typeof cursor.t !== "string" || typeof cursor.id !== "string" || !UUID.test(cursor.id)) throw new Error();
    return { size, after: { t: new Date(cursor.t).toISOString(), id: cursor.id } };
  } catch {
    throw new InvalidArgumentError("page_token", "is not a next_page_token returned by this list");
  }
}

/**
 * Applies keyset paging on (created_at, id) ascending: stable under inserts and deletes,
 * unlike OFFSET. Fetches one row more than the page to know whether another page follows.
 */
export async function fetchPage<Row extends { id: string; created_at: Date }>(
  query: Knex.QueryBuilder,
  table: string,
  page: { size: number; after?: Cursor },
): Promise<{ rows: Row[]; nextPageToken: string }> {
  if (page.after) {
    query.whereRaw(`(${table}.created_at, ${table}.id) > (?::timestamptz, ?::uuid)`, [page.after.t, page.after.id]);
  }
  const rows = (await query.orderBy([`${table}.created_at`, `${table}.id`]).limit(page.size + 1)) as Row[];
  if (rows.length <= page.size) return { rows, nextPageToken: "" };
  const last = rows[page.size - 1];
  const token = Buffer.from(JSON.stringify({ t: new Date(last.created_at).toISOString(), id: last.id })).toString("base64url");
  return { rows: rows.slice(0, page.size), nextPageToken: token };
}
