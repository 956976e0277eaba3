from sim2real.cli.main import main

main()
