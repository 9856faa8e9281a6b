import { outcomeCommand } from './_outcome';

export default outcomeCommand(
  'fail',
  'failed',
  'Record that a request failed (with the reason), tell its sender and release your claim.',
  'the API it needs does not exist',
);
