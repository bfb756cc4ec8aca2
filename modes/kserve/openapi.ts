import { describeExpected } from '../../src/inputs/convert-inputs.js';
import type { ModelInfo } from '../../src/http/protocol.js';
import type { InputsSchema } from '../../src/types.js';
import { datatypesFor } from './datatypes.js';
import { outputTensor } from './metadata.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ 'application/json': { schema } });

// The official document's shapes (kserve/open-inference-protocol, Apache-2.0), in OpenAPI 3.1.
const officialSchemas = {
  metadata_server_response: {
    type: 'object',
    properties: { name: { type: 'string' }, version: { type: 'string' }, extensions: { type: 'array', items: { type: 'string' } } },
    required: ['name', 'version', 'extensions'],
  },
  metadata_model_response: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      versions: { type: 'array', items: { type: 'string' } },
      platform: { type: 'string' },
      inputs: { type: 'array', items: ref('metadata_tensor') },
      outputs: { type: 'array', items: ref('metadata_tensor') },
    },
    required: ['name', 'platform'],
  },
  metadata_tensor: {
    type: 'object',
    properties: { name: { type: 'string' }, datatype: { type: 'string' }, shape: { type: 'array', items: { type: 'integer' } }, parameters: ref('parameters') },
    required: ['name', 'datatype', 'shape'],
  },
  parameters: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
  tensor_data: { type: 'array', items: { anyOf: [ref('tensor_data'), { type: 'number' }, { type: 'string' }, { type: 'boolean' }] } },
  request_input: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      shape: { type: 'array', items: { type: 'integer' } },
      datatype: { type: 'string' },
      parameters: ref('parameters'),
      data: ref('tensor_data'),
    },
    required: ['name', 'shape', 'datatype'],
  },
  request_output: { type: 'object', properties: { name: { type: 'string', enum: [outputTensor] }, parameters: ref('parameters') }, required: ['name'] },
  response_output: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      shape: { type: 'array', items: { type: 'integer' } },
      datatype: { type: 'string' },
      parameters: ref('parameters'),
      data: ref('tensor_data'),
    },
    required: ['name', 'shape', 'datatype'],
  },
  inference_response: {
    type: 'object',
    properties: {
      model_name: { type: 'string' },
      model_version: { type: 'string' },
      id: { type: 'string' },
      parameters: ref('parameters'),
      outputs: { type: 'array', items: ref('response_output') },
    },
    required: ['model_name', 'outputs'],
  },
  error: { type: 'object', properties: { error: { type: 'string' } }, required: ['error'] },
  ready_model_response: {
    type: 'object',
    properties: { name: { type: 'string' }, ready: { type: 'boolean' }, reason: { type: 'string' } },
    required: ['name', 'ready'],
  },
};

const errorStatuses: Record<string, string> = {
  '400': 'a malformed request, or an input the schema refuses; the message names the tensor',
  '404': 'an unknown model name or version',
  '413': 'the body is over MAX_INPUT_BYTES, or has more batch items (V1 instances) than CONCURRENCY + MAX_QUEUE',
  '429': 'the queue is full; see Retry-After',
  '500': 'the model reported a failure or threw',
  '503': 'not ready (starting, restarting or shutting down)',
  '504': 'the inference ran past INFERENCE_TIMEOUT_MS',
};

function errors(...statuses: string[]): Record<string, unknown> {
  return Object.fromEntries(statuses.map((status) => [status, { description: errorStatuses[status], content: json(ref('error')) }]));
}

/**
 * The OpenAPI 3.1 document of the kserve mode: the Open Inference Protocol's routes with the
 * official shapes, the model's input tensors described from its schema, and an example request.
 */
export function openApiDocument(schema: InputsSchema, model: ModelInfo): Record<string, unknown> {
  const name = { name: 'name', in: 'path', required: true, description: "the model's name", schema: { type: 'string', enum: [model.name] } };
  const version = { name: 'version', in: 'path', required: true, description: "the model's version", schema: { type: 'string', enum: [model.version] } };
  const health = (what: 'live' | 'ready', summary: string) => ({
    get: {
      summary,
      responses: {
        '200': { description: `${what}`, content: json({ type: 'object', properties: { [what]: { type: 'boolean', const: true } } }) },
        '503': {
          description: `not ${what}`,
          content: json({ type: 'object', properties: { [what]: { type: 'boolean', const: false }, reason: { type: 'string' } } }),
        },
      },
    },
  });
  const metadata = (parameters: unknown[]) => ({
    parameters,
    get: {
      summary: 'Model metadata: its input tensors and its output',
      responses: { '200': { description: 'the model metadata', content: json(ref('metadata_model_response')) }, ...errors('404') },
    },
  });
  const ready = (parameters: unknown[]) => ({
    parameters,
    get: {
      summary: 'Model ready (answered by the status code)',
      responses: {
        '200': { description: 'ready', content: json(ref('ready_model_response')) },
        '503': { description: 'not ready', content: json(ref('ready_model_response')) },
        ...errors('404'),
      },
    },
  });
  const infer = (parameters: unknown[]) => ({
    parameters,
    post: {
      summary: 'Inference: a batch of N along the first dimension runs N inferences and answers N elements',
      description: `JSON, or with the binary tensor data extension: the JSON header, then the binary tensor data (application/octet-stream, with the ${headerName} header giving the JSON header's length; 0 sends the raw data of a model with one input). Binary outputs when the request asks (parameters.binary_data on an output, parameters.binary_data_output on the request). A batch fails whole with its first failing item's error.`,
      parameters: [
        {
          name: headerName,
          in: 'header',
          required: false,
          description: 'the byte length of the JSON header when binary tensor data follows it',
          schema: { type: 'integer', minimum: 0 },
        },
      ],
      requestBody: {
        required: true,
        content: {
          'application/json': { schema: ref('inference_request'), example: exampleRequest(schema) },
          'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } },
        },
      },
      responses: {
        '200': {
          description:
            'one BYTES element per batch item in the output tensor; JSON results as their JSON text, text as text, anything else as base64 (or raw bytes as binary data)',
          content: {
            'application/json': { schema: ref('inference_response') },
            'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } },
          },
        },
        ...errors('400', '404', '413', '429', '500', '503', '504'),
      },
    },
  });
  return {
    openapi: '3.1.0',
    info: {
      title: `${model.name}: Open Inference Protocol`,
      version: model.version,
      description: `${model.description}. KServe's Open Inference Protocol (V2) with the binary tensor data extension, and the V1 protocol. Errors are {"error": "..."}.`,
      license: { name: 'Apache-2.0 (the protocol document the shapes come from)', identifier: 'Apache-2.0' },
    },
    paths: {
      '/v2': {
        get: { summary: 'Server metadata', responses: { '200': { description: 'the server metadata', content: json(ref('metadata_server_response')) } } },
      },
      '/v2/health/live': health('live', 'Server live (answered by the status code)'),
      '/v2/health/ready': health('ready', 'Server ready (answered by the status code)'),
      '/v2/models/{name}': metadata([name]),
      '/v2/models/{name}/ready': ready([name]),
      '/v2/models/{name}/infer': infer([name]),
      '/v2/models/{name}/versions/{version}': metadata([name, version]),
      '/v2/models/{name}/versions/{version}/ready': ready([name, version]),
      '/v2/models/{name}/versions/{version}/infer': infer([name, version]),
      '/v1/models/{name}': ready([name]),
      '/v1/models/{name}:predict': {
        parameters: [name],
        post: {
          summary: 'V1 predict: one inputs object per instance, one prediction per instance',
          requestBody: { required: true, content: json(ref('v1_request')) },
          responses: {
            '200': { description: 'the predictions, in order', content: json(ref('v1_response')) },
            ...errors('400', '404', '413', '429', '500', '503', '504'),
          },
        },
      },
    },
    components: {
      schemas: {
        ...officialSchemas,
        inference_request: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            parameters: { ...ref('parameters'), description: 'passed to the model as options on every item; binary_data_output asks for binary outputs' },
            inputs: { type: 'array', items: ref('request_input'), description: inputsDescription(schema) },
            outputs: { type: 'array', items: ref('request_output') },
          },
          required: ['inputs'],
        },
        v1_request: {
          type: 'object',
          properties: {
            instances: {
              type: 'array',
              minItems: 1,
              items: {},
              description:
                'an inputs object per instance (binary values as {"b64": "..."} or, for image and file inputs, base64); a bare value for a model with one input',
            },
          },
          required: ['instances'],
        },
        v1_response: {
          type: 'object',
          properties: {
            predictions: { type: 'array', items: {}, description: 'a JSON result as its value, text as a string, anything else as {"b64": "..."}' },
          },
          required: ['predictions'],
        },
      },
    },
  };
}

const headerName = 'Inference-Header-Content-Length';

function inputsDescription(schema: InputsSchema): string {
  const lines = Object.entries(schema).map(([input, spec]) => {
    const datatypes = datatypesFor(spec.type);
    return `${input}: ${datatypes[0]}${datatypes.length > 1 ? ` (or ${datatypes.slice(1).join(', ')})` : ''}, ${describeExpected(spec)}${spec.type === 'image' || spec.type === 'file' ? ', base64 in JSON' : ''}${spec.type === 'json' ? ', as JSON text' : ''}`;
  });
  return `One tensor per input, shape [N] for a batch of N: ${lines.join('; ') || 'this model has no inputs'}. Tensors the schema does not list pass to the model as options unless STRICT_INPUTS.`;
}

function exampleRequest(schema: InputsSchema): Record<string, unknown> {
  const inputs = Object.entries(schema).map(([input, spec]) => {
    const datatype = datatypesFor(spec.type)[0]!;
    let value: unknown;
    switch (spec.type) {
      case 'image':
      case 'file':
        value = '<base64>';
        break;
      case 'text':
        value = spec.default ?? 'text';
        break;
      case 'choice':
        value = spec.default ?? spec.choices[0];
        break;
      case 'json':
        value = JSON.stringify(spec.default ?? {});
        break;
      case 'number':
      case 'integer':
        value = spec.default ?? spec.min ?? 0;
        break;
      case 'boolean':
        value = spec.default ?? false;
        break;
    }
    return { name: input, shape: [1], datatype, data: [value] };
  });
  return { id: 'example-1', inputs };
}
