/** Every migration in order; index i takes the schema from version i to i + 1. Never edit one that shipped. */
import m001 from './001-init';
import m002 from './002-attribution';
import m003 from './003-wakeups';
import m004 from './004-links-and-short-ids';
import m005 from './005-coordination';
import m006 from './006-search-later';
import m007 from './007-judge-again';

export const MIGRATIONS: readonly string[] = [m001, m002, m003, m004, m005, m006, m007];
