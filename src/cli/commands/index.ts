import type { CliCommand } from '../command.js';
import { check } from './check.js';
import { demo } from './demo.js';
import { init } from './init.js';
import { provision } from './provision.js';
import { store } from './store.js';

/**
 * Every `lookout` subcommand, in help order. A new subcommand is one file beside this one plus
 * one entry here.
 *
 * @example
 * ```ts
 * COMMANDS.map((command) => command.name); // ['init', 'provision', 'check', 'demo', 'store']
 * ```
 */
export const COMMANDS: readonly CliCommand[] = [init, provision, check, demo, store];
