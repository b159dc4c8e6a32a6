import { GatewayError, type Logger, type ResultColumn, type RowObserver, type RowTransform, type ValueMask } from '@querygate/core';
import {
  CopyRowSplitter, copyData, copyFieldValue, copyRowFields, encodeCopyValue, rebuildCopyRow, type CopyOptions,
} from '../codec/copyRows';

/**
 * Applies a result plan to the rows of one COPY ... TO STDOUT in text or CSV format: cuts the
 * CopyData stream into rows, rewrites the masked fields, hands each row to the plan's observer,
 * and sends every complete row in a CopyData of its own. A row still incomplete waits for the next
 * CopyData; one still incomplete at CopyDone is withheld (`finish`).
 */
export class CopyOutRelay {
  private readonly splitter: CopyRowSplitter;
  private readonly masks: ReadonlyMap<number, ValueMask>;
  private readonly observe: RowObserver | undefined;
  private readonly observeLimit: number;
  private headerPending: boolean;
  /** Rows handed to the observer so far. */
  observed = 0;
  /** Non-NULL values that went through a mask since the last `takeMasked`. */
  private masked = 0;
  /** Once nothing is left to rewrite or observe, CopyData messages pass as they came. */
  private passing = false;

  constructor(
    private readonly options: CopyOptions,
    private readonly columns: readonly ResultColumn[],
    transform: RowTransform,
    private readonly logger: Logger,
    private readonly sessionId: string,
  ) {
    this.splitter = new CopyRowSplitter(options);
    this.masks = transform.columns;
    this.observe = transform.observe;
    this.observeLimit = transform.observe === undefined ? 0 : (transform.observeLimit ?? 0);
    this.headerPending = options.header;
  }

  /**
   * The CopyData messages to send for one received CopyData body, or undefined to send that message
   * as it came. Throws a GatewayError for a row that cannot be read: the caller withholds the rest.
   */
  relay(buf: Buffer, start: number, end: number): Buffer[] | undefined {
    if (this.passing) return undefined;
    if (this.masks.size === 0 && this.observed >= this.observeLimit && this.splitter.pending === 0 && !this.headerPending) {
      this.passing = true;
      return undefined;
    }
    const out: Buffer[] = [];
    for (const row of this.splitter.push(buf, start, end)) out.push(copyData(this.row(row)));
    return out;
  }

  /** At CopyDone: an error when a row was left incomplete (its bytes are withheld). */
  finish(): GatewayError | undefined {
    if (this.passing || this.splitter.pending === 0) return undefined;
    return malformed(`the COPY data ended inside a row (${this.splitter.pending} bytes without a line end)`);
  }

  takeMasked(): number {
    const n = this.masked;
    this.masked = 0;
    return n;
  }

  private row(row: Buffer): Buffer {
    if (this.headerPending) {
      // Column names, not data.
      this.headerPending = false;
      return row;
    }
    const split = copyRowFields(row, this.options);
    if (split === undefined) throw malformed('a COPY row could not be read (an open quote, or no line end)');
    const fields = split.fields;
    if (fields.length !== this.columns.length) {
      throw malformed(`a COPY row has ${fields.length} values where the gateway resolved ${this.columns.length} columns`);
    }
    const observing = this.observe !== undefined && this.observed < this.observeLimit;
    const texts: (string | null | undefined)[] | undefined = observing ? new Array<string | null | undefined>(fields.length) : undefined;
    const replaced = new Map<number, Buffer>();
    for (const [index, mask] of this.masks) {
      const f = fields[index];
      if (f === undefined) continue;
      const value = copyFieldValue(row, f, this.options);
      // NULL stays NULL: masks never see it.
      if (value === null) continue;
      const text = value.toString('utf8');
      let masked: string | null;
      try {
        masked = mask(text);
      } catch (err) {
        // Fail closed: a mask that throws sends NULL, never the value.
        this.logger.warn('value mask threw; sending NULL', { sessionId: this.sessionId, column: this.columns[index]?.name, error: String(err) });
        masked = null;
      }
      this.masked++;
      if (texts) texts[index] = masked;
      if (masked === text) continue; // unchanged: its bytes stay as they were
      const bytes = masked === null ? null : Buffer.from(masked, 'utf8');
      replaced.set(index, encodeCopyValue(bytes, this.options, f.quoted, fields.length === 1));
    }
    if (observing && texts) {
      this.observed++;
      for (let i = 0; i < fields.length; i++) {
        if (texts[i] === undefined) texts[i] = copyFieldValue(row, fields[i]!, this.options)?.toString('utf8') ?? null;
      }
      try {
        this.observe!(texts as (string | null)[]);
      } catch (err) {
        // The observer is the gateway's own recording: its failure never touches the client's rows.
        this.logger.warn('row observer threw', { sessionId: this.sessionId, error: String(err) });
      }
    }
    return replaced.size === 0 ? row : rebuildCopyRow(row, split, replaced);
  }
}

function malformed(why: string): GatewayError {
  return new GatewayError('QG_MASKING_UNRESOLVED', `${why}, so the rest of the COPY output was withheld`, {
    hint: 'Select the rows with a query instead; its result is masked.',
  });
}
