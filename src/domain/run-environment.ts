// What a run trained with: the worker, its Python and MLX stack versions, the machine, and the trainer's flag set.
export interface RunEnvironment {
  worker: string;
  python: string | null;
  mlx: string | null;
  mlxLm: string | null;
  mlxLmLora: string | null;
  /** "macOS 15.1" on a Mac. */
  os: string | null;
  /** "Apple M2 Max" on a Mac. */
  chip: string | null;
  memoryBytes: number | null;
  /** The flag set the command was built for. */
  flagSet: { version: string | null; source: 'build_parser' | 'help' | 'verified' } | null;
}
