/**
 * Distinct counts that can be stored per day and combined over any run of days: what lets `stats()` count
 * unique visitors over a million hits without reading them.
 *
 * A sketch holds the 53-bit hashes of the keys it saw, exactly, while there are at most {@link EXACT_LIMIT}
 * of them; past that it becomes a HyperLogLog of 2^14 registers (16 KiB, a standard error of about 0.8 %),
 * read with Ertl's improved estimator, which needs no bias tables. Counts of exact sketches are exact (but
 * for a 53-bit hash collision: about one chance in four million at 65,536 keys).
 *
 * Stored bytes: a format byte, then either the hashes as little-endian float64s (format 1) or the registers
 * (format 2). Stored summaries outlive releases, so a new format gets a new number.
 */

/** A day's sketch keeps exact hashes up to this many keys: the size of its registers as float64s. */
export const EXACT_LIMIT = 2048;
/** A week's sketch stays exact while its days' are: it never holds more hashes than they do together. */
const WEEK_EXACT_LIMIT = 7 * EXACT_LIMIT;
/** A union of exact sketches stays exact up to this many keys. */
const UNION_EXACT_LIMIT = 65_536;
const P = 14;
const M = 1 << P;
/** Bits of the hash left for the rank once the register index is taken. */
const Q = 53 - P;
const EXACT_FORMAT = 1;
const REGISTERS_FORMAT = 2;

/** murmur3's 32-bit finaliser: every input bit flips about half of the output bits. */
function fmix32(value: number): number {
	let h = value;
	h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
	h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
	return (h ^ (h >>> 16)) >>> 0;
}

/** MurmurHash3's x86 32-bit mixing, one UTF-16 code unit per step, from `seed`. */
function murmur32(key: string, seed: number): number {
	let h = seed;
	for (let i = 0; i < key.length; i++) {
		let k = Math.imul(key.charCodeAt(i), 0xcc9e2d51);
		k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
		h ^= k;
		h = (h << 13) | (h >>> 19);
		h = (Math.imul(h, 5) + 0xe6546b64) | 0;
	}
	return fmix32(h ^ key.length);
}

/** A 53-bit hash of a string: two 32-bit MurmurHash3 lanes with different seeds, 21 bits of one and 32 of the other. */
export function hashKey(key: string): number {
	return (murmur32(key, 0x9747b28c) & 0x1fffff) * 2 ** 32 + murmur32(key, 0x5bd1e995);
}

/** The register a hash falls in, and its rank: 1 + the leading zeros of the remaining Q bits. */
function place(hash: number): [index: number, rank: number] {
	const index = Math.floor(hash / 2 ** Q);
	const rest = hash - index * 2 ** Q;
	const high = Math.floor(rest / 2 ** 32);
	const rank = high > 0 ? Math.clz32(high) - (32 - (Q - 32)) + 1 : Q - 32 + Math.clz32(rest >>> 0) + 1;
	return [index, rank];
}

/** σ(x) of Ertl's estimator: x + Σ x^(2^k)·2^(k−1). */
function sigma(x: number): number {
	if (x === 1) return Number.POSITIVE_INFINITY;
	let power = x;
	let weight = 1;
	let sum = x;
	for (;;) {
		power *= power;
		const next = sum + power * weight;
		if (next === sum) return sum;
		sum = next;
		weight *= 2;
	}
}

/** τ(x) of Ertl's estimator: (1 − x − Σ (1 − x^(2^−k))²·2^−k) / 3. */
function tau(x: number): number {
	if (x === 0 || x === 1) return 0;
	let root = x;
	let weight = 1;
	let sum = 1 - x;
	for (;;) {
		root = Math.sqrt(root);
		weight *= 0.5;
		const next = sum - (1 - root) ** 2 * weight;
		if (next === sum) return sum / 3;
		sum = next;
	}
}

function estimate(registers: Uint8Array): number {
	const histogram = new Array<number>(Q + 2).fill(0);
	for (const value of registers) histogram[value] = (histogram[value] ?? 0) + 1;
	let z = M * tau(1 - (histogram[Q + 1] ?? 0) / M);
	for (let k = Q; k >= 1; k--) z = 0.5 * (z + (histogram[k] ?? 0));
	z += M * sigma((histogram[0] ?? 0) / M);
	return Math.round(M ** 2 / (2 * Math.LN2) / z);
}

/** The distinct keys of a day (or a union of days): see the module's comment. */
export class Sketch {
	#hashes: Set<number> | null = new Set();
	#registers: Uint8Array | null = null;
	/** Whether the registers are someone else's bytes (see {@link Sketch.from}), to copy before changing. */
	#borrowed = false;
	readonly #limit: number;

	/** `limit`: how many hashes to keep exactly before turning into registers. */
	constructor(limit = EXACT_LIMIT) {
		this.#limit = limit;
	}

	/** A sketch that may hold up to 65,536 keys exactly: for adding up days, not for storing. */
	static union(): Sketch {
		return new Sketch(UNION_EXACT_LIMIT);
	}

	/** A sketch for a week's seven days: exact if each of them is. */
	static week(): Sketch {
		return new Sketch(WEEK_EXACT_LIMIT);
	}

	/** Reads stored bytes (registers in place: the bytes must not change meanwhile); throws on bytes no version of refkit wrote. */
	static from(bytes: Uint8Array): Sketch {
		const format = bytes[0];
		const body = bytes.subarray(1);
		// Exact as stored, however many: a week's sketch may hold more than a day's.
		const sketch = new Sketch(Math.max(EXACT_LIMIT, body.length / 8));
		if (format === EXACT_FORMAT && body.length % 8 === 0) {
			const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
			for (let offset = 0; offset < body.length; offset += 8) sketch.#addHash(view.getFloat64(offset, true));
			return sketch;
		}
		if (format === REGISTERS_FORMAT && body.length === M) {
			sketch.#hashes = null;
			// Shared, not copied: merging into another sketch only reads them, and adding copies them first.
			sketch.#registers = body;
			sketch.#borrowed = true;
			return sketch;
		}
		throw new Error(`not a stored sketch (format ${String(format)}, ${body.length} bytes)`);
	}

	/** Whether the count is exact. */
	get exact(): boolean {
		return this.#hashes !== null;
	}

	/** How many distinct keys were added: exact, or estimated once the sketch holds registers. */
	get count(): number {
		return this.#hashes !== null ? this.#hashes.size : estimate(this.#registers as Uint8Array);
	}

	add(key: string): void {
		this.#addHash(hashKey(key));
	}

	/** Adds every key `other` saw. */
	merge(other: Sketch): void {
		const theirs = other.#hashes;
		if (theirs !== null) {
			for (const hash of theirs) this.#addHash(hash);
			return;
		}
		const mine = this.#toRegisters();
		const registers = other.#registers as Uint8Array;
		for (let i = 0; i < M; i++)
			if ((registers[i] as number) > (mine[i] as number)) mine[i] = registers[i] as number;
	}

	/** The bytes to store. */
	toBytes(): Uint8Array {
		if (this.#hashes === null) {
			const bytes = new Uint8Array(1 + M);
			bytes[0] = REGISTERS_FORMAT;
			bytes.set(this.#registers as Uint8Array, 1);
			return bytes;
		}
		const bytes = new Uint8Array(1 + this.#hashes.size * 8);
		bytes[0] = EXACT_FORMAT;
		const view = new DataView(bytes.buffer, 1);
		let offset = 0;
		for (const hash of this.#hashes) {
			view.setFloat64(offset, hash, true);
			offset += 8;
		}
		return bytes;
	}

	#addHash(hash: number): void {
		if (this.#hashes !== null) {
			this.#hashes.add(hash);
			if (this.#hashes.size > this.#limit) this.#toRegisters();
			return;
		}
		const [index, rank] = place(hash);
		const registers = this.#toRegisters();
		if (rank > (registers[index] as number)) registers[index] = rank;
	}

	/** The registers, to change: made from the hashes, or copied if borrowed. */
	#toRegisters(): Uint8Array {
		if (this.#borrowed) {
			this.#registers = Uint8Array.from(this.#registers as Uint8Array);
			this.#borrowed = false;
		}
		if (this.#registers !== null) return this.#registers;
		const registers = new Uint8Array(M);
		this.#registers = registers;
		const hashes = this.#hashes as Set<number>;
		this.#hashes = null;
		for (const hash of hashes) this.#addHash(hash);
		return registers;
	}
}
