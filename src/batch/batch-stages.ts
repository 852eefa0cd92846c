/**
 * A batch's transitions that touch its files: validating → in_progress (or failed), and
 * the end — completed (through finalizing), expired or cancelled — which writes the
 * output and error files from the lines' stored results. Each transition's UPDATE names
 * the status it leaves, so a cancel that lands in between is never overwritten.
 */
import type { Kysely } from 'kysely';
import type { Clock } from '../core/clock.js';
import type { Database } from '../store/schema.js';
import { checkBatchInput, type BatchError } from './batch-input.js';
import { unrunLine } from './batch-line.js';
import type { BatchRow } from './batches.js';
import type { FileService } from './files.js';

const insertChunk = 500;
const readPage = 1000;

export type FinalStatus = 'completed' | 'expired' | 'cancelled';

export class BatchStages {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly files: FileService,
    private readonly clock: Clock,
  ) {}

  /** Reads and checks the input file; stores its lines and starts the batch, or fails it naming the lines at fault. */
  async validate(batch: BatchRow): Promise<void> {
    const now = this.clock.wallNow().getTime();
    const file = await this.files.row(batch.tenant_id, batch.input_file_id).catch(() => undefined);
    const checked = file
      ? await checkBatchInput(await this.files.open(file), batch.endpoint)
      : { ok: false as const, errors: [{ code: 'file_not_found', message: `The input file ${batch.input_file_id} was deleted.`, param: 'input_file_id', line: null }] };
    if (!checked.ok) {
      await this.fail(batch, checked.errors, now);
      return;
    }
    await this.db.transaction().execute(async (trx) => {
      // A gateway that died half-way through this left some lines: start them over.
      await trx.deleteFrom('batch_lines').where('batch_id', '=', batch.id).execute();
      for (let i = 0; i < checked.lines.length; i += insertChunk) {
        const rows = checked.lines.slice(i, i + insertChunk).map((line) => ({
          batch_id: batch.id,
          line_no: line.lineNo,
          custom_id: line.customId,
          body: JSON.stringify(line.body),
          status: 'pending' as const,
          result: null,
          finished_at: null,
        }));
        await trx.insertInto('batch_lines').values(rows).execute();
      }
      await trx
        .updateTable('batches')
        .set({ status: 'in_progress', in_progress_at: now, total: checked.lines.length, model: checked.model })
        .where('id', '=', batch.id)
        .where('status', '=', 'validating')
        .execute();
      // Cancelled while validating: keep the count, so the cancelled batch reports its size.
      await trx.updateTable('batches').set({ total: checked.lines.length }).where('id', '=', batch.id).execute();
    });
  }

  private async fail(batch: BatchRow, errors: BatchError[], now: number): Promise<void> {
    await this.db
      .updateTable('batches')
      .set({ status: 'failed', failed_at: now, errors: JSON.stringify(errors), owner: null })
      .where('id', '=', batch.id)
      .where('status', 'in', ['validating', 'cancelling'])
      .execute();
  }

  /** Lines still waiting to run (none once a batch may complete). */
  async pendingCount(batchId: string): Promise<number> {
    const row = await this.db
      .selectFrom('batch_lines')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('batch_id', '=', batchId)
      .where('status', '=', 'pending')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * Writes the output file (finished lines) and the error file (failed lines, and for an
   * expired or cancelled batch every line never run), then ends the batch. Returns false
   * when the batch had meanwhile left the status this end starts from.
   */
  async finish(batch: BatchRow, status: FinalStatus): Promise<boolean> {
    const now = this.clock.wallNow().getTime();
    const from = status === 'completed' ? 'finalizing' : status === 'cancelled' ? 'cancelling' : 'in_progress';
    if (status === 'completed') {
      const started = await this.db
        .updateTable('batches')
        .set({ status: 'finalizing', finalizing_at: now })
        .where('id', '=', batch.id)
        .where('status', 'in', ['in_progress', 'finalizing'])
        .executeTakeFirst();
      if (Number(started.numUpdatedRows) === 0) return false;
    }
    const suffix = batch.id.replace(/^batch_/, '');
    const outputs = await this.writeLines(batch, `file-${suffix}o`, `${batch.id}_output.jsonl`, 'ok', status);
    const errors = await this.writeLines(batch, `file-${suffix}e`, `${batch.id}_error.jsonl`, 'not-ok', status);
    const ended = await this.db
      .updateTable('batches')
      .set({ status, [`${status}_at`]: now, output_file_id: outputs, error_file_id: errors, owner: null })
      .where('id', '=', batch.id)
      .where('status', '=', from)
      .executeTakeFirst();
    return Number(ended.numUpdatedRows) > 0;
  }

  /** One of the two result files, or null when it would be empty. */
  private async writeLines(batch: BatchRow, fileId: string, filename: string, which: 'ok' | 'not-ok', end: FinalStatus): Promise<string | null> {
    const lines = this.resultLines(batch.id, which, end === 'completed' ? undefined : end === 'expired' ? 'batch_expired' : 'batch_cancelled');
    const first = await lines.next();
    if (first.done) return null;
    async function* all() {
      yield `${first.value}\n`;
      for await (const line of lines) yield `${line}\n`;
    }
    const file = await this.files.writeOwn(batch.tenant_id, fileId, filename, 'batch_output', all());
    return file.id;
  }

  private async *resultLines(batchId: string, which: 'ok' | 'not-ok', unrun: 'batch_expired' | 'batch_cancelled' | undefined): AsyncGenerator<string> {
    let after = 0;
    for (;;) {
      let select = this.db
        .selectFrom('batch_lines')
        .select(['line_no', 'custom_id', 'status', 'result'])
        .where('batch_id', '=', batchId)
        .where('line_no', '>', after);
      select = which === 'ok' ? select.where('status', '=', 'ok') : select.where('status', '!=', 'ok');
      const rows = await select.orderBy('line_no').limit(readPage).execute();
      if (rows.length === 0) return;
      for (const row of rows) {
        if (row.status !== 'pending') yield row.result!;
        else if (unrun) yield unrunLine(batchId, row.custom_id, unrun);
      }
      after = Number(rows.at(-1)!.line_no);
    }
  }
}
