// The core's route table: literal paths, OpenAPI-style templates (a segment, or a segment's part
// before a literal suffix), decoded parameters, and the mistakes a protocol could declare.
import { describe, expect, test } from 'vitest';
import { AiIntegrationError } from '../../src/errors.js';
import type { RouteDefinition } from '../../src/http/protocol.js';
import { Router } from '../../src/http/router.js';

const noop = () => {};
const route = (method: RouteDefinition['method'], path: string, probe?: boolean): RouteDefinition => ({
  method,
  path,
  handler: noop,
  ...(probe ? { probe } : {}),
});

const router = new Router([
  route('POST', '/predict'),
  route('GET', '/health', true),
  route('GET', '/v2/models/{name}'),
  route('GET', '/v2/models/{name}/ready', true),
  route('POST', '/v2/models/{name}/infer'),
  route('POST', '/v2/models/{name}/versions/{version}/infer'),
  route('GET', '/v1/models/{name}'),
  route('POST', '/v1/models/{name}:predict'),
  route('PUT', '/predictions/{id}'),
  route('POST', '/predictions/{id}/cancel'),
]);

describe('Router', () => {
  test('a literal path matches itself only, with its methods and no parameters', () => {
    const match = router.match('/predict');
    expect(match?.template).toBe('/predict');
    expect([...match!.methods.keys()]).toEqual(['POST']);
    expect(match?.params).toEqual({});
    expect(router.match('/predict/')).toBeUndefined();
    expect(router.match('/predictx')).toBeUndefined();
  });

  test('templates give their parameters, decoded, and their template as the route name', () => {
    expect(router.match('/v2/models/resnet/infer')).toMatchObject({ template: '/v2/models/{name}/infer', params: { name: 'resnet' } });
    expect(router.match('/v2/models/my%20model/versions/2/infer')).toMatchObject({
      template: '/v2/models/{name}/versions/{version}/infer',
      params: { name: 'my model', version: '2' },
    });
    expect(router.match('/v2/models/resnet')).toMatchObject({ template: '/v2/models/{name}', params: { name: 'resnet' } });
    expect(router.match('/predictions/abc/cancel')).toMatchObject({ params: { id: 'abc' } });
  });

  test('a parameter never spans a slash', () => {
    expect(router.match('/v2/models/a/b/infer')).toBeUndefined();
    expect(router.match('/v2/models//infer')).toBeUndefined();
  });

  test('a parameter before a literal suffix (KServe V1) takes the segment without the suffix', () => {
    expect(router.match('/v1/models/resnet:predict')).toMatchObject({ template: '/v1/models/{name}:predict', params: { name: 'resnet' } });
    // Without the suffix, the same path is the model's own route.
    expect(router.match('/v1/models/resnet')).toMatchObject({ template: '/v1/models/{name}', params: { name: 'resnet' } });
    expect(router.match('/v1/models/a:b:predict')).toMatchObject({ params: { name: 'a:b' } });
  });

  test('probes are marked, so that they stay reachable past MAX_CONNECTIONS and while draining', () => {
    expect(router.match('/health')?.probe).toBe(true);
    expect(router.match('/v2/models/x/ready')?.probe).toBe(true);
    expect(router.match('/v2/models/x/infer')?.probe).toBe(false);
  });

  test('bad percent-encoding in a parameter is a client error, not a crash', () => {
    expect(() => router.match('/v2/models/%E0%A4%A/infer')).toThrow(AiIntegrationError);
  });

  test('a route declared twice, or a path not starting with /, is refused when the protocol is built', () => {
    expect(() => new Router([route('GET', '/a'), route('GET', '/a')])).toThrow('GET /a is declared twice');
    expect(() => new Router([route('GET', '/a/{x}'), route('GET', '/a/{x}')])).toThrow('declared twice');
    expect(() => new Router([route('GET', 'a')])).toThrow('must start with /');
  });
});
