defmodule LambdaRuntime.OTPAppsTest do
  use ExUnit.Case, async: false

  alias LambdaRuntime.OTPApps

  test "an installed application: its directory under the Erlang root, loadable" do
    assert OTPApps.ensure_available([:public_key, :ssl]) == :ok
    assert {:ok, dir} = OTPApps.lib_dir(:public_key)
    assert String.starts_with?(dir, List.to_string(:code.root_dir()) <> "/lib/public_key-")
    assert File.regular?(Path.join(dir, "ebin/public_key.app"))
    assert {:module, :public_key} = Code.ensure_loaded(:public_key)
  end

  test "an application that is not installed is named, with the package that has it" do
    assert OTPApps.lib_dir(:no_such_otp_app) == :error
    assert {:error, message} = OTPApps.ensure_available([:kernel, :no_such_otp_app])
    assert message =~ "the no_such_otp_app application is not installed in #{:code.root_dir()}"
    assert message =~ "apt-get install erlang-no-such-otp-app"

    error = assert_raise RuntimeError, fn -> OTPApps.ensure_started!([:no_such_otp_app]) end
    assert error.message == message
  end

  test "ensure_started! starts what it makes available" do
    assert OTPApps.ensure_started!([:inets]) == :ok
    assert List.keymember?(Application.started_applications(), :inets, 0)
  end

  # What Mix does to a project's code path on Elixir 1.15+ (on 1.14 nothing
  # prunes it, and this module only checks).
  if function_exported?(Mix, :ensure_application!, 1) do
    test "an application taken off the code path is put back" do
      {:ok, dir} = OTPApps.lib_dir(:xmerl)
      ebin = Path.join(dir, "ebin")
      Code.delete_path(ebin)
      on_exit(fn -> Code.append_path(ebin) end)
      assert :code.lib_dir(:xmerl) == {:error, :bad_name}

      assert OTPApps.lib_dir(:xmerl) == {:ok, dir}
      assert {:module, :xmerl} = Code.ensure_loaded(:xmerl)
    end
  end
end
