import { Command } from 'commander';
import { registerBillingCommands } from './billing-commands.js';
import { registerEconomicsCommand } from './economics-command.js';
import { registerBatchCommands } from './batch-commands.js';
import { registerContextCommands } from './context-commands.js';
import { registerModelCommands } from './model-commands.js';
import { registerServeCommand } from './serve-command.js';

const program = new Command()
  .name('skylark')
  .description('Skylark: an open model-as-a-service platform (OpenAI-compatible gateway)')
  .showHelpAfterError();

registerServeCommand(program);
registerModelCommands(program);
registerBillingCommands(program);
registerEconomicsCommand(program);
registerBatchCommands(program);
registerContextCommands(program);

await program.parseAsync(process.argv);
