from quittance_ops.cli import main

main()
