defmodule LambdaRuntime.Test do
  @moduledoc """
  Helpers for testing handlers in your ExUnit suite, without a network or
  an emulator: `invoke/3` runs a handler exactly as the runtime does (the
  same `_HANDLER` resolution, `init/1`, process isolation, deadline, error
  shaping and JSON encoding), and returns what a caller of Lambda would see.

      defmodule MyApp.HandlerTest do
        use ExUnit.Case, async: true
        import LambdaRuntime.Test

        test "greets" do
          assert {:ok, %{"message" => "Hello, Ada!"}} =
                   invoke("MyApp.Handler.handle", %{"name" => "Ada"})
        end

        test "an API Gateway request" do
          event = LambdaRuntime.Samples.load!("apigateway-http")
          response = assert_ok(invoke(MyApp.Api, event))
          assert response["statusCode"] == 200
        end

        test "a bad event fails the way Lambda reports it" do
          # MyApp.Handler.handle/2 does Map.fetch!(event, "name")
          error = assert_error(invoke("MyApp.Handler.handle", %{}), "KeyError")
          assert error["errorMessage"] =~ "key \\"name\\" not found"
        end
      end

  The event goes through JSON on the way in and the response on the way
  out, so atoms become strings and structs are encoded by
  `LambdaRuntime.JSON.Encoder`, as they would be on Lambda. Lambda's size
  limits apply as on Lambda and in `mix lambda.invoke`
  (`LambdaRuntime.Limits`): an event over 6 MiB gives
  `{:error, %{"errorType" => "RequestEntityTooLargeException", ...}}`, a
  response over 6 MB (or a stream past 200 MiB)
  `Function.ResponseSizeTooLarge`.
  """

  alias LambdaRuntime.{Context, ErrorReport, HandlerRef, Invoker, JSON}

  @max_request_bytes LambdaRuntime.Limits.max_request_bytes()

  @typedoc "A `_HANDLER` string, a module (`use LambdaRuntime.Handler`), or `{module, function}`."
  @type handler :: String.t() | module() | {module(), atom()}

  @typedoc "What Lambda's caller sees: the decoded response, or the decoded error."
  @type result :: {:ok, term()} | {:error, %{String.t() => term()}}

  @doc """
  A `LambdaRuntime.Context` as an invocation gets it: a fresh request id, a
  deadline `:timeout` ms (default 3000) from now, and a function named
  `"test-function"` with its ARN, 128 MB, version `$LATEST` and log names.
  Any field can be overridden:

      context(request_id: "req-1", function_name: "orders", deadline_ms: nil)

  `:timeout` sets the deadline relative to now; `deadline_ms: nil` means no
  deadline at all (nothing is killed).
  """
  @spec context(keyword()) :: Context.t()
  def context(overrides \\ []) do
    {timeout, overrides} = Keyword.pop(overrides, :timeout, 3_000)
    name = Keyword.get(overrides, :function_name, "test-function")

    base = %Context{
      request_id: LambdaRuntime.Tools.Emulator.Ids.request_id(),
      deadline_ms: System.os_time(:millisecond) + timeout,
      invoked_function_arn: "arn:aws:lambda:us-east-1:123456789012:function:#{name}",
      trace_id: LambdaRuntime.Tools.Emulator.Ids.trace_id(),
      function_name: name,
      function_version: "$LATEST",
      memory_limit_in_mb: 128,
      log_group_name: "/aws/lambda/#{name}",
      log_stream_name: "2026/01/01/[$LATEST]00000000000000000000000000000000"
    }

    struct!(base, overrides)
  end

  @doc """
  Invokes `handler` with `event` as the runtime would and returns
  `{:ok, response}` or `{:error, %{"errorType" => ..., "errorMessage" => ...,
  "stackTrace" => [...]}}`, both decoded from the JSON Lambda would return.
  A streamed response (`LambdaRuntime.StreamedResponse`) is collected; when it is not
  JSON, `response` is the binary.

  A handler that cannot be resolved, or whose `init/1` fails, gives the init
  error Lambda would return (`Runtime.HandlerNotFound`, `Runtime.InitError`...).

  Options: `:context` (a `LambdaRuntime.Context`, default `context/1`),
  anything else is passed to `context/1` (`timeout: 50`, `request_id: ...`);
  `:state` skips `init/1` and gives the handler this state instead.
  """
  @spec invoke(handler(), term(), keyword()) :: result()
  def invoke(handler, event, opts \\ []) do
    {context, opts} = Keyword.pop(opts, :context)
    {state_opt, opts} = Keyword.split(opts, [:state])
    context = context || context(opts)

    with {:ok, json} <- event_json(event),
         {:ok, ref} <- HandlerRef.resolve(handler_string(handler)),
         {:ok, state} <- init(ref, state_opt, context) do
      ref
      |> Invoker.run(state, json, context)
      |> lambda_view()
    else
      {:error, %ErrorReport{} = report} ->
        lambda_view({:error, report})

      {:error, :too_large} ->
        {:error, JSON.decode!(LambdaRuntime.Limits.request_too_large_json())}
    end
  end

  defp event_json(event) do
    case JSON.encode(event) do
      {:ok, json} when byte_size(json) > @max_request_bytes ->
        {:error, :too_large}

      {:ok, json} ->
        {:ok, json}

      {:error, e} ->
        raise ArgumentError, "the event is not JSON: " <> Exception.message(e)
    end
  end

  defp init(_ref, [state: state], _context), do: {:ok, state}

  # init/1 gets the function-level context, as in the runtime.
  defp init(ref, [], context) do
    HandlerRef.init(ref, %Context{
      function_name: context.function_name,
      function_version: context.function_version,
      memory_limit_in_mb: context.memory_limit_in_mb,
      log_group_name: context.log_group_name,
      log_stream_name: context.log_stream_name
    })
  end

  defp handler_string(handler) when is_binary(handler), do: handler
  defp handler_string({module, function}), do: "#{inspect(module)}.#{function}"
  defp handler_string(module) when is_atom(module), do: inspect(module)

  # What the caller of Lambda's Invoke gets back: JSON, decoded (a streamed
  # response that is not JSON comes as it is, as from the emulator).
  defp lambda_view({:ok, body}) do
    case JSON.decode(body) do
      {:ok, response} -> {:ok, response}
      {:error, _} -> {:ok, body}
    end
  end

  defp lambda_view({:error, %ErrorReport{} = report}), do: {:error, ErrorReport.to_map(report)}

  @doc """
  Asserts that `result` is a success and returns the response; otherwise
  fails with the error type, message and stack trace.
  """
  defmacro assert_ok(result), do: check(:ok, [result])

  @doc """
  Asserts that `result` is a function error (of `type`, when given: an
  `errorType` such as `"ArgumentError"` or `"Sandbox.Timedout"`) and returns
  the error map.
  """
  defmacro assert_error(result, type \\ nil), do: check(:error, [result, type])

  @doc """
  Asserts that `result` is an HTTP response (API Gateway, function URL,
  ALB) with `status`, and returns it, its body decoded from base64 when
  `isBase64Encoded` is true.
  """
  defmacro assert_http_status(result, status), do: check(:http_status, [result, status])

  @doc """
  Asserts that `result` is a partial batch response (SQS, Kinesis, DynamoDB
  streams) that reports exactly the item ids `failed`, in any order, and
  returns the response.
  """
  defmacro assert_batch_failures(result, failed),
    do: check(:batch_failures, [result, failed])

  # The macros expand in the caller's test module, where ExUnit is loaded;
  # the checking is done by __check__/2.
  defp check(what, args) do
    quote do
      case LambdaRuntime.Test.__check__(unquote(what), unquote(args)) do
        {:pass, value} -> value
        {:fail, message} -> ExUnit.Assertions.flunk(message)
      end
    end
  end

  @doc """
  Runs a durable handler (`use LambdaRuntime.Durable`) through its whole
  execution against an in-memory checkpoint service; see
  `LambdaRuntime.Durable.Test.run/3` for the options and the result.
  """
  defdelegate run_durable(handler, input, opts \\ []), to: LambdaRuntime.Durable.Test, as: :run

  @doc false
  def __check__(:ok, [{:ok, response}]), do: {:pass, response}

  def __check__(:ok, [{:error, %{"errorType" => type} = error}]) do
    trace = Enum.map_join(List.wrap(error["stackTrace"]), "", &("\n    " <> to_string(&1)))

    {:fail,
     "expected the invocation to succeed, it failed with #{type}: #{error["errorMessage"]}#{trace}"}
  end

  def __check__(:ok, [other]), do: {:fail, "expected {:ok, response}, got: #{inspect(other)}"}

  def __check__(:error, [{:error, %{"errorType" => type} = error}, expected]) do
    if expected in [nil, type],
      do: {:pass, error},
      else: {:fail, "expected a #{expected} error, got #{type}: #{error["errorMessage"]}"}
  end

  def __check__(:error, [other, _]),
    do: {:fail, "expected the invocation to fail, got: #{inspect(other)}"}

  def __check__(:http_status, [result, status]) do
    with {:pass, response} <- __check__(:ok, [result]) do
      case response do
        %{"statusCode" => ^status} ->
          {:pass, decode_body(response)}

        %{"statusCode" => other} ->
          {:fail, "expected HTTP status #{status}, got #{other}: #{inspect(response["body"])}"}

        other ->
          {:fail, "expected an HTTP response (statusCode), got: #{inspect(other)}"}
      end
    end
  end

  def __check__(:batch_failures, [result, failed]) do
    with {:pass, response} <- __check__(:ok, [result]) do
      failures = if is_map(response), do: response["batchItemFailures"] || [], else: []
      reported = failures |> Enum.map(& &1["itemIdentifier"]) |> Enum.sort()
      expected = Enum.sort(failed)

      if reported == expected,
        do: {:pass, response},
        else:
          {:fail, "expected batchItemFailures for #{inspect(expected)}, got #{inspect(reported)}"}
    end
  end

  defp decode_body(%{"isBase64Encoded" => true, "body" => body} = response),
    do: %{response | "body" => Base.decode64!(body)}

  defp decode_body(response), do: response
end
