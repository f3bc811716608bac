from conftest import run_cli


def test_unknown_command_is_one_line_exit_2():
    proc = run_cli("no-such-command")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert "no-such-command" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_help_lists_examples():
    proc = run_cli("--help")
    assert proc.returncode == 0
    assert "Examples" in proc.stdout
