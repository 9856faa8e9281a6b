/** Every migration in order; index i takes the schema from version i to i + 1. Never edit one that shipped. */
import m001 from './001-init';

export const MIGRATIONS: readonly string[] = [m001];
