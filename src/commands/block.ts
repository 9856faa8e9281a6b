import { outcomeCommand } from './_outcome';

export default outcomeCommand(
  'block',
  'blocked',
  'Record that a request is blocked (with what blocks it), tell its sender and release your claim.',
  'waiting for the schema from codex',
);
