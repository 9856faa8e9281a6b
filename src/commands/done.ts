import { outcomeCommand } from './_outcome';

export default outcomeCommand(
  'done',
  'done',
  'Record that a request is done (with evidence), tell its sender and release your claim.',
  'tests pass: npm test, 212 passed',
);
