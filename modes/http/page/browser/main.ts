// The web page's script. The build bundles this module and its imports into one classic script
// (an IIFE) that the page inlines (see tsup.config.ts); the server passes it data only through the
// page's JSON block (page-data.ts), never by writing into the code.
import { setUpExamples } from './examples.js';
import { watchFieldErrors } from './field-errors.js';
import { setUpFileInputs } from './file-inputs.js';
import { setUpRunning } from './run.js';

watchFieldErrors();
setUpFileInputs();
setUpExamples();
setUpRunning();
