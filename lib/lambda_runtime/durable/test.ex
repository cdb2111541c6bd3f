defmodule LambdaRuntime.Durable.Test do
  @moduledoc """
  Runs a durable handler to completion in your ExUnit suite, without AWS or
  a network: an in-memory checkpoint service
  (`LambdaRuntime.Tools.Durable.Local.Service`) plays the durable-execution
  service, and the handler is invoked again and again, as Lambda would,
  until the execution succeeds or fails. Waits and retry delays are skipped
  (the service's clock jumps to the next timer), callbacks are answered
  from your script, chained invokes call your functions.

      test "an order is approved" do
        result =
          LambdaRuntime.Durable.Test.run(MyApp.Order, %{"order_id" => 7},
            callbacks: %{"approval" => {:json, %{"ok" => true}}}
          )

        assert result.status == :succeeded
        assert result.result == %{"order" => 7, "approved" => %{"ok" => true}}
        assert %{"Status" => "SUCCEEDED"} = operation(result, "charge")
      end

  Each invocation runs the way the runtime runs it (`LambdaRuntime.Durable.Runner`
  in a fresh process, the event and the response through JSON).

  Options:

    * `:callbacks` - answers by callback name (for `wait_for_callback`, the
      operation's name): `{:ok, raw_string}`, `{:json, term}` (sent as JSON
      text), `{:error, type, message}`, `:heartbeat`, or a list of those in
      order; or a function `fn name, callback_id -> answer | nil end`. A
      callback without an answer stays open (and times out if it has a
      timeout);
    * `:functions` - chained-invoke targets: `%{"name" => fn payload -> result end}`
      (handler return rules; a raise fails the invoke);
    * `:skip_time` - jump over waits and delays (default `true`);
    * `:max_invocations` - default 50; `:state` - the handler state;
      `:page_size` - operations per state page (to exercise paging).
  """

  alias LambdaRuntime.Durable.{Error, Outcome, Runner}
  alias LambdaRuntime.Tools.Durable.Local.Service
  alias LambdaRuntime.JSON

  defmodule Result do
    @moduledoc "The outcome of `LambdaRuntime.Durable.Test.run/3`."
    defstruct [:status, :result, :error, :arn, operations: [], invocations: [], updates: []]

    @type t :: %__MODULE__{
            status: :succeeded | :failed | :pending,
            result: term(),
            error: map() | nil,
            arn: String.t(),
            operations: [map()],
            invocations: [map() | {:error, term()}],
            updates: [map()]
          }
  end

  @doc "Runs `handler` (a module using `LambdaRuntime.Durable`, or a 2-arity function) with `input`."
  @spec run(module() | (term(), LambdaRuntime.Durable.Context.t() -> term()), term(), keyword()) ::
          Result.t()
  def run(handler, input, opts \\ []) do
    fun = if is_atom(handler), do: &handler.handle_execution/2, else: handler
    ensure_crypto()
    {:ok, svc} = Service.start_link(page_size: Keyword.get(opts, :page_size, 1000))

    try do
      arn = Service.start_execution(svc, input)

      drive(%{
        svc: svc,
        arn: arn,
        fun: fun,
        opts: opts,
        outputs: [],
        answered: MapSet.new(),
        failures: 0
      })
    after
      GenServer.stop(svc)
    end
  end

  # Operation ids use :crypto; Elixir 1.15+ keeps applications outside the
  # project's dependency tree off the code path in Mix projects.
  defp ensure_crypto, do: LambdaRuntime.OTPApps.ensure_available!([:crypto])

  @doc "The operation named `name` (wire map), or `nil`."
  @spec operation(Result.t(), String.t()) :: map() | nil
  def operation(%Result{operations: ops}, name), do: Enum.find(ops, &(&1["Name"] == name))

  @doc "The operations of a type (`\"STEP\"`, `\"WAIT\"`, ...), in checkpoint order."
  @spec operations(Result.t(), String.t()) :: [map()]
  def operations(%Result{operations: ops}, type), do: Enum.filter(ops, &(&1["Type"] == type))

  defp drive(st) do
    if length(st.outputs) >= Keyword.get(st.opts, :max_invocations, 50) do
      result(st, :pending)
    else
      event = st.svc |> Service.invocation_event(st.arn) |> JSON.encode!() |> JSON.decode!()
      output = invoke(st, event)
      Service.finish_invocation(st.svc, st.arn, output)
      st = %{st | outputs: [output | st.outputs]}

      case output do
        %{"Status" => "SUCCEEDED"} -> result(st, :succeeded)
        %{"Status" => "FAILED"} -> result(st, :failed)
        %{"Status" => "PENDING"} -> advance(%{st | failures: 0})
        {:error, _} when st.failures >= 2 -> result(st, :failed)
        {:error, _} -> drive(%{st | failures: st.failures + 1})
      end
    end
  end

  # One invocation in a fresh process, as LambdaRuntime.Invoker runs it.
  defp invoke(st, event) do
    client = {Service, st.svc}
    state = Keyword.get(st.opts, :state)
    parent = self()
    ref = make_ref()

    {pid, monitor} =
      spawn_monitor(fn ->
        output =
          try do
            {:ok, Runner.run(st.fun, event, nil, client: client, state: state)}
          catch
            kind, reason -> {:error, {kind, reason}}
          end

        send(parent, {ref, output})
      end)

    receive do
      {^ref, {:ok, output}} ->
        Process.demonitor(monitor, [:flush])
        output |> JSON.encode!() |> JSON.decode!()

      {^ref, error} ->
        Process.demonitor(monitor, [:flush])
        error

      {:DOWN, ^monitor, :process, ^pid, reason} ->
        {:error, {:exit, reason}}
    end
  end

  # Between invocations: answer callbacks, run invokes, else skip time.
  defp advance(st) do
    exec = Service.execution(st.svc, st.arn)
    {st, answered?} = answer_callbacks(st, exec.callbacks)
    invoked? = run_invokes(st, exec.invokes)

    cond do
      answered? or invoked? ->
        drive(st)

      Keyword.get(st.opts, :skip_time, true) and Service.skip_to_next_timer(st.svc, st.arn) == :ok ->
        drive(st)

      exec.next_timer != nil ->
        wait_for_timer(st, exec.next_timer)

      true ->
        result(st, :pending)
    end
  end

  defp wait_for_timer(st, at) do
    Process.sleep(max(at - System.os_time(:millisecond), 0) + 10)
    drive(st)
  end

  defp answer_callbacks(st, open) do
    Enum.reduce(open, {st, false}, fn {callback_id, op}, {acc, answered?} ->
      case next_answer(acc, op["Name"], callback_id) do
        nil ->
          {acc, answered?}

        {answer, acc} ->
          :ok = Service.complete_callback(acc.svc, acc.arn, callback_id, wire_answer(answer))
          {acc, answered? or answer != :heartbeat}
      end
    end)
  end

  defp next_answer(st, name, callback_id) do
    key = {callback_id, name}

    case Keyword.get(st.opts, :callbacks, %{}) do
      fun when is_function(fun, 2) ->
        if MapSet.member?(st.answered, key),
          do: nil,
          else: answer_once(st, key, fun.(name, callback_id))

      answers ->
        # For wait_for_callback the callback is named "NAME create callback id".
        base = name && String.replace_suffix(name, " create callback id", "")

        case Map.get(answers, name) || Map.get(answers, base) do
          nil ->
            nil

          list when is_list(list) ->
            nth_answer(st, key, base, list)

          answer ->
            if MapSet.member?(st.answered, key), do: nil, else: answer_once(st, key, answer)
        end
    end
  end

  defp answer_once(_st, _key, nil), do: nil
  defp answer_once(st, key, answer), do: {answer, %{st | answered: MapSet.put(st.answered, key)}}

  # A list answers successive callbacks of the same name, one each.
  defp nth_answer(st, key, base, list) do
    if MapSet.member?(st.answered, key) do
      nil
    else
      used =
        Enum.count(st.answered, fn {_, n} ->
          n && String.replace_suffix(n, " create callback id", "") == base
        end)

      if used < length(list), do: answer_once(st, key, Enum.at(list, used)), else: nil
    end
  end

  defp wire_answer({:ok, raw}), do: {:ok, raw}
  defp wire_answer({:json, term}), do: {:ok, JSON.encode!(term)}
  defp wire_answer({:error, type, message}), do: {:error, Error.object(type, message)}
  defp wire_answer(:heartbeat), do: :heartbeat

  defp run_invokes(st, invokes) do
    functions = Keyword.get(st.opts, :functions, %{})

    Enum.reduce(invokes, false, fn invoke, _ ->
      answer =
        case Map.fetch(functions, invoke.function) do
          {:ok, fun} ->
            payload = if invoke.payload, do: JSON.decode!(invoke.payload)

            case Outcome.run(fn -> fun.(payload) end) do
              {:ok, value} -> {:ok, JSON.encode!(value)}
              {:error, object} -> {:error, object}
            end

          :error ->
            {:error,
             Error.object("ResourceNotFoundException", "Function not found: #{invoke.function}")}
        end

      Service.complete_invoke(st.svc, st.arn, invoke.id, answer)
      true
    end)
  end

  defp result(st, status) do
    exec = Service.execution(st.svc, st.arn)
    [last | _] = st.outputs

    result =
      case last do
        %{"Result" => ""} -> exec.result && JSON.decode!(exec.result)
        %{"Result" => json} when is_binary(json) -> JSON.decode!(json)
        _ -> nil
      end

    error =
      case last do
        %{"Error" => error} ->
          error

        %{"Status" => "FAILED"} ->
          exec.error

        {:error, reason} ->
          %{"ErrorType" => "InvocationFailed", "ErrorMessage" => inspect(reason)}

        _ ->
          nil
      end

    %Result{
      status: status,
      result: result,
      error: error,
      arn: st.arn,
      operations: exec.operations,
      invocations: Enum.reverse(st.outputs),
      updates: exec.updates
    }
  end
end
