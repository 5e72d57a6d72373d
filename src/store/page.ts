/* Where a listing starts: an offset, or (keyset pagination) the row it follows. */

export interface RowPosition {
	createdAt: Date;
	id: string;
}

/** A page of a newest-first listing: `limit` rows after skipping `offset`, or after the row `after`. */
export interface Page {
	limit: number;
	offset: number;
	/** Only rows older than this one (by `created_at`, then `id`): the next batch of an export. */
	after?: RowPosition | undefined;
}
