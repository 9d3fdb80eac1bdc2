// Compile contracts/src with the pinned solc-js and write contracts/build/<Name>.json.
// `node contracts/build.mjs --check` compiles and exits 1 if a committed artifact differs.
// Settings are fixed here (and recorded in each artifact) so a rebuild is byte-identical.
// Imports of "@openzeppelin/contracts/..." resolve to the exact version package-lock.json
// pins in node_modules (its WebAuthn and P256 libraries); nothing else is imported.
import { readFileSync, readdirSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const solc = require("solc");
const here = dirname(fileURLToPath(import.meta.url));
const srcDir = join(here, "src");
const outDir = join(here, "build");
const DEPLOYED = ["DexinLedger"];
const SETTINGS = {
  evmVersion: "prague",
  optimizer: { enabled: true, runs: 200 },
  metadata: { bytecodeHash: "ipfs", appendCBOR: true },
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "metadata"] } },
};

function compilerInput() {
  const sources = {};
  for (const file of readdirSync(srcDir).filter((f) => f.endsWith(".sol")).sort()) {
    sources[file] = { content: readFileSync(join(srcDir, file), "utf8") };
  }
  return { language: "Solidity", sources, settings: SETTINGS };
}

function findImport(path) {
  if (!path.startsWith("@openzeppelin/contracts/")) return { error: `not allowed: ${path}` };
  try {
    return { contents: readFileSync(require.resolve(path), "utf8") };
  } catch {
    return { error: `not found: ${path} (run npm ci)` };
  }
}

function compile() {
  const input = JSON.stringify(compilerInput());
  const output = JSON.parse(solc.compile(input, { import: findImport }));
  const errors = (output.errors || []).filter((e) => e.severity === "error");
  for (const e of output.errors || []) console.error(e.formattedMessage);
  if (errors.length) process.exit(2);
  return output;
}

function artifacts(output) {
  const result = {};
  for (const name of DEPLOYED) {
    const c = output.contracts[`${name}.sol`][name];
    const artifact = {
      contractName: name,
      compiler: { name: "solc-js", version: solc.version(), settings: SETTINGS },
      abi: c.abi,
      bytecode: "0x" + c.evm.bytecode.object,
      deployedBytecode: "0x" + c.evm.deployedBytecode.object,
      metadata: c.metadata,
    };
    result[`${name}.json`] = JSON.stringify(artifact, null, 2) + "\n";
  }
  return result;
}

const built = artifacts(compile());
const check = process.argv.includes("--check");
let differs = false;
for (const [file, text] of Object.entries(built)) {
  const path = join(outDir, file);
  if (check) {
    const same = existsSync(path) && readFileSync(path, "utf8") === text;
    if (!same) console.error(`differs from a fresh build: contracts/build/${file}`);
    differs ||= !same;
  } else {
    mkdirSync(outDir, { recursive: true });
    writeFileSync(path, text);
    console.log(`wrote contracts/build/${file}`);
  }
}
process.exit(differs ? 1 : 0);
