import type { CliCommand } from '../command.js';
import { provision } from './provision.js';

/**
 * Every `lookout` subcommand, in help order. A new subcommand is one file beside this one plus
 * one entry here.
 *
 * @example
 * ```ts
 * COMMANDS.map((command) => command.name); // ['provision']
 * ```
 */
export const COMMANDS: readonly CliCommand[] = [provision];
