import { readFile } from 'node:fs/promises';
import { buildPriceTable } from '../core/pricing/cost';
import { UsageError, type CliIO } from './command';

/** The usage lines of `--custom-models`, for the commands that price tokens. */
export const customModelsUsage = `  --custom-models FILE      a JSON list of models to add or override, as in the
                            tokenscope.cost.customModels setting`;

/**
 * The price table with the models of `--custom-models FILE` added (a usage error when the file cannot
 * be read or parsed); each entry the table could not take is a warning on stderr.
 */
export async function priceTableFromFlags(strings: ReadonlyMap<string, string>, io: CliIO): Promise<ReturnType<typeof buildPriceTable>> {
  let custom: unknown;
  const customFile = strings.get('custom-models');
  if (customFile !== undefined) {
    try {
      custom = JSON.parse(await readFile(customFile, 'utf8'));
    } catch (error) {
      throw new UsageError(`--custom-models ${customFile}: ${(error as Error).message}`);
    }
  }
  const table = buildPriceTable(custom);
  for (const problem of table.problems) io.stderr.write(`warning: ${problem}\n`);
  return table;
}
