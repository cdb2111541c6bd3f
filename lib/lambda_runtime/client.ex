defmodule LambdaRuntime.Client do
  @moduledoc """
  The Lambda Runtime API, one call per endpoint.

  A thin Elixir face on the Rust client in the NIF: each call is one NIF
  call that blocks on a dirty IO scheduler (only the write of a small
  response sent ahead, in `respond_then_next/5`, happens on the caller's
  scheduler, without blocking) and returns the HTTP status and body as
  they came. Deciding
  what a status means (retry, report, exit) is the caller's job; see
  `LambdaRuntime.Reporter` and `LambdaRuntime.Poller`.

  A client belongs to one process (each poller has its own) and makes one
  request at a time. It keeps two connections alive, one for `/next` and
  one for `/response` and `/error`; a streamed response opens a third for
  its length, and `/runtime/init/error` a short-lived one (ARCHITECTURE.md,
  *Connections*).
  """

  alias LambdaRuntime.{ErrorReport, Native}

  @typedoc "A Runtime API client: a NIF resource, owned by one process."
  @opaque t :: reference()

  @typedoc """
  Why a request got no HTTP answer. `:timeout`: no answer (or no progress
  writing) within the client's bound, which applies to every call but
  `/next`; `:too_large`: an answer larger than the client reads.
  """
  @type transport_error ::
          {:refused | :closed | :protocol | :too_large | :timeout | :other, String.t()}

  @typedoc "What `/next` answered."
  @type next_answer ::
          {:ok, pos_integer(), meta(), binary()}
          | {:truncated, pos_integer(), meta(), String.t()}
          | {:error, transport_error()}

  @typedoc "The headers of `/next`, by name; absent ones are `nil`."
  @type meta :: %{
          request_id: String.t() | nil,
          deadline_ms: non_neg_integer() | nil,
          invoked_function_arn: String.t() | nil,
          trace_id: String.t() | nil,
          client_context: String.t() | nil,
          cognito_identity: String.t() | nil,
          tenant_id: String.t() | nil,
          invocation_id: String.t() | nil
        }

  @doc """
  Creates a client for the value of `AWS_LAMBDA_RUNTIME_API`: `host:port`
  (as Lambda sets it) or `http://host:port/prefix` (as emulators do).

  Every call but the `/next` long poll waits at most `timeout_ms` (default
  #{LambdaRuntime.Config.default_api_timeout_ms()}) to connect, for each
  write and for its answer; `/runtime/init/error` at most 2 s, since the
  runtime exits right after it.
  """
  @spec new(String.t(), pos_integer()) :: {:ok, t()} | {:error, String.t()}
  def new(api, timeout_ms \\ LambdaRuntime.Config.default_api_timeout_ms())
      when is_binary(api) and is_integer(timeout_ms) and timeout_ms > 0,
      do: Native.client_new(api, timeout_ms)

  @doc "The base URL every endpoint path is appended to."
  @spec base_url(t()) :: String.t()
  def base_url(client), do: Native.client_base_url(client)

  @doc """
  `GET /runtime/invocation/next`: waits for the next event. When the headers
  (with a request id) arrived but the body did not, the answer is
  `{:truncated, status, meta, reason}`, so that the invocation can still be
  answered with an error rather than lost.
  """
  @spec next(t()) :: next_answer()
  def next(client), do: Native.client_next(client)

  @doc "`POST /runtime/invocation/{id}/response` with a JSON body."
  @spec response(t(), String.t(), String.t() | nil, iodata()) ::
          {:ok, pos_integer(), binary()} | {:error, transport_error()}
  def response(client, request_id, invocation_id, body),
    do: Native.client_response(client, request_id, invocation_id, body)

  @doc """
  `POST /runtime/invocation/{id}/response`, then, only if Lambda accepted
  it (2xx), `GET /runtime/invocation/next`, in one NIF call with one hop
  to a dirty IO thread: `{:next, answer}` with the answer `next/1` would
  give. Any other answer to the POST is returned as `response/4` returns
  it, and no `/next` is made.

  A small body (a binary of at most 64 KiB) is written from the caller's
  scheduler, without blocking, before the dirty IO thread that reads the
  answer is woken: the Runtime API gets the response one thread wake-up
  sooner (BENCHMARKS.md). `mark`, an in-flight mark
  (`LambdaRuntime.Shutdown.mark_in_flight/0`), is released as soon as the
  response is accepted, before the `/next`, which may wait for minutes.
  """
  @spec respond_then_next(
          t(),
          String.t(),
          String.t() | nil,
          iodata(),
          LambdaRuntime.Shutdown.mark() | nil
        ) ::
          {:next, next_answer()} | {:ok, pos_integer(), binary()} | {:error, transport_error()}
  def respond_then_next(client, request_id, invocation_id, body, mark \\ nil),
    do: Native.client_respond_next(client, request_id, invocation_id, body, mark)

  @doc "`POST /runtime/invocation/{id}/error`."
  @spec error(t(), String.t(), String.t() | nil, ErrorReport.t()) ::
          {:ok, pos_integer(), binary()} | {:error, transport_error()}
  def error(client, request_id, invocation_id, %ErrorReport{} = report),
    do: Native.client_error(client, request_id, invocation_id, ErrorReport.to_wire(report))

  @doc "`POST /runtime/init/error`."
  @spec init_error(t(), ErrorReport.t()) ::
          {:ok, pos_integer(), binary()} | {:error, transport_error()}
  def init_error(client, %ErrorReport{} = report),
    do: Native.client_init_error(client, ErrorReport.to_wire(report))
end
