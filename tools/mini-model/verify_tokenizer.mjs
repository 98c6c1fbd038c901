// Checks that @huggingface/tokenizers (what the extension uses) encodes the held-out files to exactly
// the ids our Python BPE produced (work/tokenizer_ref.json from dump_tok_ref.py), and decodes back.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';

const here = dirname(fileURLToPath(import.meta.url));
const modelDir = join(here, '..', '..', 'models', 'tokenscope-mini');
const tok = new Tokenizer(
  JSON.parse(readFileSync(join(modelDir, 'tokenizer.json'), 'utf8')),
  JSON.parse(readFileSync(join(modelDir, 'tokenizer_config.json'), 'utf8')),
);
const cases = JSON.parse(readFileSync(join(here, 'work', 'tokenizer_ref.json'), 'utf8'));
let bad = 0;
let tokens = 0;
for (const c of cases) {
  const ids = tok.encode(c.text).ids;
  tokens += ids.length;
  const same = ids.length === c.ids.length && ids.every((v, i) => v === c.ids[i]);
  const back = tok.decode(ids, { skip_special_tokens: false });
  if (!same || back !== c.text.normalize('NFC')) {
    bad++;
    const i = ids.findIndex((v, k) => v !== c.ids[k]);
    console.error(`MISMATCH ${c.path}: first diff at ${i}: node ${ids.slice(i, i + 5)} py ${c.ids.slice(i, i + 5)} roundtrip=${back === c.text}`);
  }
}
console.log(`${cases.length - bad}/${cases.length} files identical, ${tokens} tokens`);
process.exit(bad ? 1 : 0);
