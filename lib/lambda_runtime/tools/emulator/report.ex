defmodule LambdaRuntime.Tools.Emulator.Report do
  @moduledoc """
  What Lambda logs after each invocation, as the emulator measures it:

      REPORT RequestId: 6f1c...\tDuration: 1.52 ms\tBilled Duration: 2 ms\tMemory Size: 512 MB\tMax Memory Used: 58 MB\tInit Duration: 212.40 ms

  `duration_ms` runs from the moment the runtime received the event (its
  `/next` answer) to the moment it posted the outcome. `init_duration_ms`
  is set on the first invocation only: from the emulator's start (or
  `LambdaRuntime.Tools.Emulator.expect_init/1`) to the runtime's first `/next`.
  As for custom runtimes on Lambda, the billed duration includes it. An
  invocation that timed out ends its line with `Status: timeout`, as on
  Lambda. `to_string/1` gives the line.
  """

  defstruct [
    :request_id,
    :duration_ms,
    :billed_duration_ms,
    :memory_size_mb,
    :max_memory_used_mb,
    :init_duration_ms,
    :status
  ]

  @type t :: %__MODULE__{
          request_id: String.t(),
          duration_ms: float(),
          billed_duration_ms: pos_integer(),
          memory_size_mb: pos_integer(),
          max_memory_used_mb: non_neg_integer(),
          init_duration_ms: float() | nil,
          status: :ok | :error | :timeout
        }

  @doc false
  def new(request_id, duration_ms, init_duration_ms, memory_size_mb, max_memory_used_mb, status) do
    %__MODULE__{
      request_id: request_id,
      duration_ms: Float.round(duration_ms, 2),
      billed_duration_ms: max(ceil(duration_ms + (init_duration_ms || 0)), 1),
      memory_size_mb: memory_size_mb,
      max_memory_used_mb: max_memory_used_mb,
      init_duration_ms: init_duration_ms && Float.round(init_duration_ms, 2),
      status: status
    }
  end

  @doc "The REPORT line, as Lambda writes it to the function's log."
  @spec format(t()) :: String.t()
  def format(%__MODULE__{} = r) do
    fields =
      [
        "REPORT RequestId: #{r.request_id}",
        "Duration: #{ms(r.duration_ms)} ms",
        "Billed Duration: #{r.billed_duration_ms} ms",
        "Memory Size: #{r.memory_size_mb} MB",
        "Max Memory Used: #{r.max_memory_used_mb} MB"
      ] ++
        if(r.init_duration_ms, do: ["Init Duration: #{ms(r.init_duration_ms)} ms"], else: []) ++
        if(r.status == :timeout, do: ["Status: timeout"], else: [])

    Enum.join(fields, "\t")
  end

  defp ms(value), do: :erlang.float_to_binary(value / 1, decimals: 2)

  defimpl String.Chars do
    def to_string(report), do: LambdaRuntime.Tools.Emulator.Report.format(report)
  end
end
