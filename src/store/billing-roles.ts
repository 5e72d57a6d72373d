/* The store's role for billing systems' events and payments (see billing.ts; store.ts for the others). */

/** What became of a billing event (`received` only inside the transaction that applies it). */
export type BillingEventStatus = "applied" | "ignored" | "waiting" | "failed";

/** A billing system's event as stored. */
export interface BillingEvent {
	provider: string;
	id: string;
	type: string;
	objectId: string | null;
	status: BillingEventStatus | "received";
	outcome: string;
	waitingFor: string | null;
	/** The event as received, JSON. */
	payload: string;
	attempts: number;
	receivedAt: Date;
	updatedAt: Date;
}

export interface NewBillingEvent {
	provider: string;
	id: string;
	type: string;
	objectId: string | null;
	payload: string;
}

/**
 * What taking an event for this transaction found: a new event (stored as `received` until it is finished), a
 * waiting or failed one to apply again (its row locked until the transaction ends), or one already done.
 */
export type TakenEvent =
	| { take: "new" | "again"; event: BillingEvent }
	| { take: "done"; event: BillingEvent };

export interface BillingEventQuery {
	provider: string;
	status?: BillingEventStatus | undefined;
	/** Only the events waiting for one of these. */
	waitingFor?: readonly string[] | undefined;
	limit: number;
}

/** Billing systems' events and payments. */
export interface BillingStore {
	/** Stores a new event, or takes a waiting or failed one again, or finds it done: in the caller's transaction. */
	takeBillingEvent(event: NewBillingEvent, now: Date): Promise<TakenEvent>;
	finishBillingEvent(
		provider: string,
		id: string,
		end: { status: BillingEventStatus; outcome: string; waitingFor: string | null },
		now: Date,
	): Promise<void>;
	getBillingEvent(provider: string, id: string): Promise<BillingEvent | null>;
	/** Events oldest first. */
	listBillingEvents(query: BillingEventQuery): Promise<BillingEvent[]>;
	/** Whether an event of this type about this object was applied. */
	billingEventApplied(provider: string, objectId: string, type: string): Promise<boolean>;
	/** Records that a payment paid the sale with this external id (once; a later link of the payment is ignored). */
	linkPayment(provider: string, paymentId: string, saleExternalId: string, now: Date): Promise<void>;
	/** The external id of the sale a payment paid, if linked. */
	saleOfPayment(provider: string, paymentIds: readonly string[]): Promise<string | null>;
	/** The payments linked to a sale. */
	paymentsOfSale(provider: string, saleExternalId: string): Promise<string[]>;
}
