// `wasi:config/store` for jco, which ships no shim for it: the edge component reads its
// settings and credentials through this interface, and the runner gives it the keys of a JSON
// file instead of anything from the process.
import { readFileSync } from "node:fs";

/** Why a configuration file was refused: names the file and the rule it broke. */
export class ConfigError extends Error {
  constructor(path, rule) {
    super(`config file ${path}: ${rule}`);
    this.name = "ConfigError";
  }
}

/**
 * Reads `path`: one JSON object whose values are strings (the component's keys: endpoint,
 * region, path_style, access_key_id, secret_access_key, session_token, max_attempts).
 * Returns a Map from key to value.
 */
export function loadConfig(path) {
  let text;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(path, `cannot be read (${error.code ?? error.message})`);
  }
  let value;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // V8's messages may quote the input (a secret): only the position is kept.
    const position = /position (\d+)/.exec(error.message)?.[1];
    throw new ConfigError(path, position ? `is not JSON (error at character ${position})` : "is not JSON");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ConfigError(path, "must hold one JSON object of string values");
  }
  const entries = new Map();
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== "string") {
      throw new ConfigError(path, `the value of "${key}" must be a string`);
    }
    entries.set(key, item);
  }
  return entries;
}

/**
 * The `wasi:config/store` import over `entries` (the same for `@0.2.0-rc.1` and Spin's
 * `@0.2.0-draft-2024-09-27`: both declare `get` and `get-all` alike).
 */
export function configStore(entries) {
  return {
    get(key) {
      return entries.get(key);
    },
    getAll() {
      return [...entries];
    },
  };
}
