// Turns a WebAssembly component into JavaScript with jco, once per process, so that the
// runners can instantiate it as often as they need (a fresh instance per request or call)
// without compiling its core modules again.
import { mkdtemp, readFile, writeFile, mkdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { transpile } from "@bytecodealliance/jco";

/**
 * Transpiles the component at `wasmPath` into a temporary directory (instantiation mode
 * "sync": the caller passes every import itself, nothing is taken from the process).
 * Returns `instantiate(imports)`, which makes a new instance with its own memory and state
 * each time, and `dispose()`, which deletes the directory.
 */
export async function loadComponent(wasmPath, name) {
  const bytes = await readFile(wasmPath);
  const { files } = await transpile(bytes, {
    name,
    instantiation: "sync",
    noTypescript: true,
    quiet: true,
  });
  const dir = await mkdtemp(join(tmpdir(), `s3-connector-${name}-`));
  for (const [file, content] of Object.entries(files)) {
    const path = join(dir, file);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
  }
  await writeFile(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  const module = await import(pathToFileURL(join(dir, `${name}.js`)).href);
  // Compiled once: every instance shares the compiled code, never the memory.
  const compiled = new Map();
  const getCoreModule = (file) => {
    let core = compiled.get(file);
    if (!core) {
      core = new WebAssembly.Module(files[file]);
      compiled.set(file, core);
    }
    return core;
  };
  return {
    instantiate: (imports) => module.instantiate(getCoreModule, imports),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}
