// The shape of one trainer option in the catalogue: its YAML key, CLI flag, type, default and range.

export type OptionKind = 'int' | 'float' | 'string' | 'bool' | 'choice' | 'path' | 'object';

export interface OptionSpec {
  /** The YAML key and argparse dest (snake_case). */
  key: string;
  /** The CLI flag; absent for keys only YAML can set. */
  flag?: string;
  kind: OptionKind;
  choices?: readonly string[];
  /** Upstream's parser default is not None, so a YAML value would be ignored: always pass it on the CLI. */
  cliAlways?: boolean;
  /** The value the service uses when the request leaves it out. */
  default?: number | string | boolean;
  min?: number;
  /** Values must be strictly greater than this. */
  gt?: number;
  max?: number;
  /** Values must be strictly less than this. */
  lt?: number;
  recommended?: { min: number; max: number };
  description: string;
}
